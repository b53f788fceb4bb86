using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace FastCallbacks.Distributed;

/// <summary>
/// The rows of every rank's predictions, concatenated in rank order, as one differentiable operation: forward
/// gathers the global batch's predictions on every rank, backward hands this rank the gradient of its own rows
/// (times <see cref="GatherPlan.Scale"/>). The loss computed on the gathered predictions is then the loss of the
/// whole batch, on every rank, and backward reaches each rank's parameters only through its own rows.
/// </summary>
internal sealed class GatherRows : SingleTensorFunction<GatherRows>
{
    public override string Name => nameof(GatherRows);

    /// <summary>Gathers <paramref name="local"/> (this rank's predictions) as <paramref name="plan"/> says.</summary>
    public static Tensor Apply(Tensor local, GatherPlan plan) => apply(local, plan);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var local = (Tensor)vars[0];
        var plan = (GatherPlan)vars[1];
        ctx.save_data(nameof(GatherPlan), plan);
        var mine = plan.Rows[plan.Rank];
        // A rank with no rows of this batch ran the model on a stand-in row (see DistributedTrainer); it sends none.
        using var send = (mine == local.shape[0] ? local : local.narrow(0, 0, mine)).contiguous();
        return plan.Communicator.AllGather(send, plan.Rows, plan.Label);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        var plan = (GatherPlan)ctx.get_data(nameof(GatherPlan));
        var mine = plan.Rows[plan.Rank];
        long offset = 0;
        for (var r = 0; r < plan.Rank; r++) offset += plan.Rows[r];
        var local = mine == plan.LocalRows
            ? grad_output.narrow(0, offset, mine) * plan.Scale
            : zeros(plan.LocalShape, grad_output.dtype);
        // One gradient per argument of Apply; the plan has none.
        return [local, null!];
    }
}

/// <summary>How <see cref="GatherRows"/> gathers: every rank's rows, this rank, and the gradient's scale.</summary>
/// <param name="Communicator">The ranks.</param>
/// <param name="Rows">Every rank's rows of the batch.</param>
/// <param name="LocalRows">The rows this rank's model saw (one more than its share when it had none).</param>
/// <param name="LocalShape">The shape of this rank's predictions.</param>
/// <param name="Scale">The factor of the gradient handed back.</param>
/// <param name="Label">What is gathered, for the message if the deadline passes.</param>
internal sealed record GatherPlan(ICommunicator Communicator, int[] Rows, long LocalRows, long[] LocalShape, double Scale, string Label)
{
    public int Rank => Communicator.Rank;
}
