using System.Text;

namespace FastCallbacks;

public partial class Learner
{
    // fastai's Learner._loop, completed with the backward/step events fastai's outline leaves out.
    private static readonly string[] LoopOutline =
    [
        "Start Fit", "before_fit",
        "Start Epoch Loop", "before_epoch",
        "Start Train", "before_train",
        "Start Batch Loop", "before_batch", "after_pred", "after_loss", "before_backward", "after_cancel_backward",
        "after_backward", "before_step", "after_cancel_step", "after_step", "after_cancel_batch", "after_batch",
        "End Batch Loop",
        "End Train", "after_cancel_train", "after_train",
        "Start Valid", "before_validate",
        "Start Batch Loop", "**CBs same as train batch**", "End Batch Loop",
        "End Valid", "after_cancel_validate", "after_validate",
        "End Epoch Loop", "after_cancel_epoch", "after_epoch",
        "End Fit", "after_cancel_fit", "after_fit",
    ];

    /// <summary>
    /// fastai's <c>show_training_loop</c>: the outline of the loop with, for each event, the callbacks that handle
    /// it in dispatch order (read from the generated handled-event tables).
    /// </summary>
    public string ShowTrainingLoop()
    {
        var sb = new StringBuilder();
        var indent = 0;
        foreach (var step in LoopOutline)
        {
            if (step.StartsWith("Start", StringComparison.Ordinal))
            {
                sb.Append(' ', indent).AppendLine(step);
                indent += 2;
            }
            else if (step.StartsWith("End", StringComparison.Ordinal))
            {
                indent -= 2;
                sb.Append(' ', indent).AppendLine(step);
            }
            else if (Events.TryParse(step, out var e))
            {
                var names = string.Join(", ", OrderedCbs(e).Select(cb => cb.ToString()));
                sb.Append(' ', indent).Append(" - ").Append(step.PadRight(21)).Append(": [").Append(names).AppendLine("]");
            }
            else
            {
                sb.Append(' ', indent).Append(" - ").AppendLine(step);
            }
        }
        return sb.ToString();
    }
}
