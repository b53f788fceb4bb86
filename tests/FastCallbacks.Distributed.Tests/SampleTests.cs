using System.Text.RegularExpressions;

namespace FastCallbacks.Distributed.Tests;

/// <summary>samples/Distributed, built with the tests, on two ranks under mpiexec.</summary>
[TestFixture, Category("Distributed"), Category("Samples"), NonParallelizable]
public class SampleTests
{
    [Test]
    public async Task The_Distributed_sample_trains_the_digits_on_two_ranks_and_only_rank_0_writes()
    {
        var mpi = MpiJob.Require();
        using var dir = new TempDir();
        var job = await mpi.RunProgramAsync(2, SampleAssembly("Distributed"), ["--epochs", "3", "--out", dir.Path], TimeSpan.FromSeconds(120));
        Assert.That(job.ExitCode, Is.EqualTo(0), job.ToString());
        var rank0 = job.Lines(0).ToList();
        var rank1 = job.Lines(1).ToList();
        Assert.That(rank0, Has.One.StartsWith("2 rank(s)"), job.ToString());
        Assert.That(rank0.Count(l => l.StartsWith("epoch", StringComparison.Ordinal)), Is.EqualTo(1), "one table");
        Assert.That(rank1, Has.Count.EqualTo(1), $"rank 1 prints only its own check.\n{job}");
        var accuracies = new[] { rank0, rank1 }
            .Select(lines => Regex.Match(lines.Single(l => l.Contains("validation accuracy", StringComparison.Ordinal)), @"([\d.]+) %$").Groups[1].Value)
            .ToList();
        Assert.That(accuracies[0], Is.Not.Empty.And.EqualTo(accuracies[1]), "both ranks end with the same model");
        Assert.That(File.Exists(Path.Combine(dir.Path, "history.csv")), Is.True);
        Assert.That(File.Exists(Path.Combine(dir.Path, "models", "digits.pt")), Is.True);
        Assert.That(File.ReadAllLines(Path.Combine(dir.Path, "history.csv")), Has.Length.EqualTo(4), "a header and 3 epochs, written once");
    }

    /// <summary>The sample's assembly, built in the same configuration and framework as these tests.</summary>
    private static string SampleAssembly(string name)
    {
        // The tests run from <repo>/tests/FastCallbacks.Distributed.Tests/bin/<Configuration>/<tfm>/.
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "samples", name, "bin", bin.Parent.Name, bin.Name, name + ".dll");
    }
}
