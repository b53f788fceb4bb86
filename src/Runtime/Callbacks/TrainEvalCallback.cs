using TorchSharp;
namespace FastCallbacks;

/// <summary>
/// fastai's <c>TrainEvalCallback</c> (a default callback, order -10): keeps <see cref="Learner.Epoch"/>,
/// <see cref="Learner.TrainIter"/>, <see cref="Learner.PctTrain"/> and <see cref="Learner.Training"/> as fastai
/// sets them, and switches the model between train and eval mode.
/// </summary>
public sealed partial class TrainEvalCallback : Callback
{
    /// <summary>Creates the callback; it runs in training only (fastai's <c>run_valid = False</c>).</summary>
    public TrainEvalCallback() => RunValid = false;

    /// <inheritdoc/>
    public override int Order => -10;

    [On(Event.AfterCreate)]
    private void AfterCreate() => Attached.NEpoch = 1;

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        var learn = Attached;
        learn.Epoch = 0;
        learn.Loss = learn.ZeroLoss;
        learn.TrainIter = 0;
        learn.PctTrain = 0;
        learn.Model.to(learn.Dls.Device);
    }

    [On(Event.BeforeTrain)]
    private void BeforeTrain()
    {
        var learn = Attached;
        learn.PctTrain = (double)learn.Epoch / learn.NEpoch;
        learn.Model.train();
        learn.Training = true;
    }

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        learn.PctTrain += 1.0 / (learn.NIter * learn.NEpoch);
        learn.TrainIter++;
    }

    [On(Event.BeforeValidate)]
    private void BeforeValidate()
    {
        var learn = Attached;
        learn.Model.eval();
        learn.Training = false;
    }
}
