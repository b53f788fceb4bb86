namespace FastCallbacks.Tests.Core;

public class MyLearner(DataLoaders dls, nn.Module<Tensor, Tensor> model) : Learner(dls, model, TestData.Mse)
{
    public int Seen { get; set; }
    public string Tag { get; set; } = "learner-tag";
}

/// <summary>Typed forwarding: MyLearner's own properties appear on the callback; a declared member shadows.</summary>
public sealed partial class TypedCallback : Callback<MyLearner>
{
    public string Tag => "callback-tag"; // shadows MyLearner.Tag, as in fastai

    public readonly List<string> Log = [];

    [On(Event.AfterBatch)]
    private void Count()
    {
        Learn!.Seen++;
        Log.Add($"{Seen}:{Tag}:{Epoch}");
    }
}

public partial class ForwardingTests
{
    [Test]
    public void Typed_callback_reads_the_typed_learner_and_declared_members_shadow()
    {
        var cb = new TypedCallback();
        using var learn = new MyLearner(TestData.RegressionDls(), TestData.LinearModel());
        learn.AddCb(cb);
        learn.Fit(1);
        Assert.That(learn.Seen, Is.EqualTo(4));
        Assert.That(cb.Log[0], Is.EqualTo("1:callback-tag:0"));
        Assert.That(cb.Learn, Is.SameAs(learn));
    }

    [Test]
    public void Forwarding_reads_learner_state_and_fails_clearly_when_unattached()
    {
        var cb = new TypedCallback();
        var ex = Assert.Throws<InvalidOperationException>(() => _ = cb.Seen)!;
        Assert.That(ex.Message, Does.Contain("`TypedCallback` is not attached to a learner"));
        Assert.Throws<InvalidOperationException>(() => _ = cb.Epoch);
    }

    [Test]
    public void Writes_do_not_forward()
    {
        using var learn = TestData.RegressionLearner();
        var cb = Callback.Create((Event.BeforeFit, l => l.Epoch = 5));
        learn.AddCb(cb);
        learn.Invoke(Event.BeforeFit);
        Assert.That(learn.Epoch, Is.EqualTo(5));
        Assert.That(cb.Epoch, Is.EqualTo(5), "reads forward to the learner");
    }
}
