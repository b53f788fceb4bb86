using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.ForwarderWriteAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>
/// FCB0008: a callback assigns a read-only forwarding property (<c>Xb = …</c>), which the compiler reports as CS0200;
/// the diagnostic beside it says that the write goes through <c>Learn</c>.
/// </summary>
public class FCB0008Tests
{
    private static DiagnosticResult Expected(int marker, string member, string snake) =>
        V.Diagnostic(DiagnosticDescriptors.WriteToReadOnlyForwarder).WithLocation(marker).WithArguments(member, snake);

    private static DiagnosticResult ReadOnly(int marker, string property) =>
        DiagnosticResult.CompilerError("CS0200").WithLocation(marker).WithMessage($"Property or indexer '{property}' cannot be assigned to -- it is read only");

    [Test]
    public Task MessageNamesLearnAndFastaisSpelling() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeBatch)]
            void M()
            {
                {|#0:{|#1:Xb|}|} = new Tensor[0];
                {|#2:{|#3:this.LossGrad|}|} = null;
                {|#4:{|#5:Epoch|}|}++;
                {|#6:{|#7:SmoothLoss|}|} *= 2;
            }
        }
        """,
        ReadOnly(0, "Callback.Xb"), Expected(1, "Xb", "xb"),
        ReadOnly(2, "Callback.LossGrad"), Expected(3, "LossGrad", "loss_grad"),
        ReadOnly(4, "Callback.Epoch"), Expected(5, "Epoch", "epoch"),
        ReadOnly(6, "Callback.SmoothLoss"), Expected(7, "SmoothLoss", "smooth_loss"));

    [Test]
    public async Task TheMessageReadsAsASentence()
    {
        var message = string.Format(DiagnosticDescriptors.WriteToReadOnlyForwarder.MessageFormat.ToString(), "Xb", "xb");
        Assert.That(message, Is.EqualTo(
            "'Xb' in a callback only reads the learner's 'Xb', so it cannot be assigned; write 'Learn.Xb' to change the learner's (fastai's self.learn.xb)"));
        await Task.CompletedTask;
    }

    [Test]
    public Task DeconstructionAndLambdasAndTypedForwardersAreReported() => V.AnalyzerAsync("""
        using System;
        using FastCallbacks;
        public class GanLearner : Learner { public bool GenMode { get; set; } }
        public partial class Cb : Callback<GanLearner>
        {
            public bool GenMode => Learn!.GenMode;   // a forwarder, as the generator writes them
            [On(Event.BeforeBatch)]
            void M()
            {
                ({|#0:{|#1:Xb|}|}, {|#2:{|#3:Yb|}|}) = (Xb, Yb);
                Action a = () => {|#4:{|#5:GenMode|}|} = true;
            }
        }
        """,
        ReadOnly(0, "Callback.Xb"), Expected(1, "Xb", "xb"),
        ReadOnly(2, "Callback.Yb"), Expected(3, "Yb", "yb"),
        ReadOnly(4, "Cb.GenMode"), Expected(5, "GenMode", "gen_mode"));

    [Test]
    public Task NotReportedWhereTheLearnerCannotTakeTheWriteOrTheCallbackIsNotAttached() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public int Mine => 1;
            public Cb() { {|#0:Epoch|} = 3; }                  // constructor: not attached yet
            [On(Event.BeforeBatch)]
            void M(Callback other)
            {
                {|#1:X|} = null;                                 // the learner's X is read-only too
                {|#2:Mine|} = 2;                                 // not a learner member
                {|#3:other.Epoch|} = 1;                          // another callback's
                Learn!.Xb = Xb;                                  // the right way
            }
        }
        public class NotACallback
        {
            public int Epoch => 0;
            void M() { {|#4:Epoch|} = 1; }
        }
        """,
        ReadOnly(0, "Callback.Epoch"), ReadOnly(1, "Callback.X"), ReadOnly(2, "Cb.Mine"), ReadOnly(3, "Callback.Epoch"),
        ReadOnly(4, "NotACallback.Epoch"));
}
