namespace FastCallbacks.Tests.Api.DocSamples;

// Members for ParamDocsCheckerTests, whose XML documentation that test writes itself (this project writes none).
#pragma warning disable CA1822, IDE0060 // the bodies do not matter

public class Sample
{
    public Sample(int count, string? name) { }
    public void Undocumented(int count) { }
    public void Partly(double lr, bool flatten) { }
    public void Restated(double learningRate) { }
    public void Empty(int x) { }
    public void Reference(Learner learn) { }
    public T Pick<T>(T[] items, IReadOnlyList<T> fallback) => items.Length > 0 ? items[0] : fallback[0];
    public bool TryGet(string key, out int? value) { value = null; return false; }
    public int this[int index] => index;
    public static Sample operator +(Sample a, Sample b) => a;
    public static implicit operator Sample(int count) => new(count, null);
    protected void Protected(int steps) { }
    // No documentation at all (the compiler would say CS1591 where documentation is generated).
    public void Missing(int count) { }
    // Nothing to document, or not visible outside the assembly: not checked.
    public void NoParameters() { }
    internal void Internal(int hidden) { }
    private protected void PrivateProtected(int hidden) { }
    public int Count { get; set; }
}

public class Box<T>
{
    public void Put(T item, int slot) { }
}

public delegate void Handler(int code);

public abstract class BaseStep
{
    public abstract void Run(int steps);
    public virtual void Skip(int count) { }
}

public class Step : BaseStep
{
    public override void Run(int n) { }
    public override void Skip(int n) { }
    public override string ToString() => nameof(Step);
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);
    public override int GetHashCode() => 0;
}
