// Context "CallbackMembers": a block that is members of a callback class (handlers, fields), as the docs show a
// handler on its own. The block replaces the placeholder line below.
using FastCallbacks;
using static TorchSharp.torch;

public partial class DocCallback : Callback
{
    private int _batches;

    // {{block}}

    /// <summary>Reads the fields a block may use, so none is reported as unused.</summary>
    public override string ToString() => $"{_batches}";
}
