using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// How a value of type <typeparamref name="T"/> is written into a <see cref="StateDict"/> and read back. The ones there
/// are come from <see cref="StateCodecs"/>, composed as the type is (<c>StateCodecs.List(StateCodecs.Nullable(StateCodecs.Double))</c>
/// for a <c>List&lt;double?&gt;</c>); the code the generator writes for <see cref="PersistAttribute">[Persist]</see> uses them.
/// </summary>
/// <typeparam name="T">The type of the values.</typeparam>
public abstract class StateCodec<T>
{
    /// <summary>Creates a codec.</summary>
    /// <param name="name">The type's name as stored with each value (<c>double</c>, <c>list&lt;double?&gt;</c>): a value is read only by a codec of the same name.</param>
    protected StateCodec(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    /// <summary>The type's name as stored with each value.</summary>
    public string Name { get; }

    /// <summary>Writes <paramref name="value"/>.</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="value">The value to save; null too, for the codecs of reference types (a null saved reads back as null).</param>
    public abstract void Write(BinaryWriter writer, T value);

    /// <summary>Reads a value that <see cref="Write"/> wrote.</summary>
    /// <param name="reader">Where to read.</param>
    /// <exception cref="InvalidDataException">The data is not such a value.</exception>
    public abstract T Read(BinaryReader reader);

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>
/// The codecs of the types a <see cref="StateDict"/> holds, and the ways to compose them: everything
/// <see cref="PersistAttribute">[Persist]</see> can save.
/// </summary>
/// <remarks>The codecs of reference types (strings, tensors, arrays, lists, dictionaries, states) are typed with the
/// non-null type, and write a null too: a null saved reads back as null.</remarks>
public static class StateCodecs
{
    /// <summary><c>bool</c>.</summary>
    public static StateCodec<bool> Boolean { get; } = Of("bool", static (w, v) => w.Write(v), static r => r.ReadBoolean());
    /// <summary><c>byte</c>.</summary>
    public static StateCodec<byte> Byte { get; } = Of("uint8", static (w, v) => w.Write(v), static r => r.ReadByte());
    /// <summary><c>sbyte</c>.</summary>
    public static StateCodec<sbyte> SByte { get; } = Of("int8", static (w, v) => w.Write(v), static r => r.ReadSByte());
    /// <summary><c>short</c>.</summary>
    public static StateCodec<short> Int16 { get; } = Of("int16", static (w, v) => w.Write(v), static r => r.ReadInt16());
    /// <summary><c>ushort</c>.</summary>
    public static StateCodec<ushort> UInt16 { get; } = Of("uint16", static (w, v) => w.Write(v), static r => r.ReadUInt16());
    /// <summary><c>int</c>.</summary>
    public static StateCodec<int> Int32 { get; } = Of("int32", static (w, v) => w.Write(v), static r => r.ReadInt32());
    /// <summary><c>uint</c>.</summary>
    public static StateCodec<uint> UInt32 { get; } = Of("uint32", static (w, v) => w.Write(v), static r => r.ReadUInt32());
    /// <summary><c>long</c>.</summary>
    public static StateCodec<long> Int64 { get; } = Of("int64", static (w, v) => w.Write(v), static r => r.ReadInt64());
    /// <summary><c>ulong</c>.</summary>
    public static StateCodec<ulong> UInt64 { get; } = Of("uint64", static (w, v) => w.Write(v), static r => r.ReadUInt64());
    /// <summary><c>float</c>, bit for bit (NaN payloads and signed zeros included).</summary>
    public static StateCodec<float> Single { get; } = Of("float32", static (w, v) => w.Write(v), static r => r.ReadSingle());
    /// <summary><c>double</c>, bit for bit (NaN payloads and signed zeros included).</summary>
    public static StateCodec<double> Double { get; } = Of("float64", static (w, v) => w.Write(v), static r => r.ReadDouble());
    /// <summary><c>decimal</c>.</summary>
    public static StateCodec<decimal> Decimal { get; } = Of("decimal", static (w, v) => w.Write(v), static r => r.ReadDecimal());
    /// <summary><c>char</c>.</summary>
    public static StateCodec<char> Char { get; } = Of("char", static (w, v) => w.Write((ushort)v), static r => (char)r.ReadUInt16());
    /// <summary><c>string</c>, null included.</summary>
    public static StateCodec<string> String { get; } = Reference("string", static (w, v) => w.Write(v), static r => r.ReadString());
    /// <summary><c>TimeSpan</c>, to the tick.</summary>
    public static StateCodec<TimeSpan> TimeSpan { get; } = Of("timespan", static (w, v) => w.Write(v.Ticks), static r => new TimeSpan(r.ReadInt64()));
    /// <summary><c>DateTime</c>, to the tick, with its kind.</summary>
    public static StateCodec<DateTime> DateTime { get; } = Of("datetime", static (w, v) => w.Write(v.ToBinary()), static r => System.DateTime.FromBinary(r.ReadInt64()));
    /// <summary><c>DateTimeOffset</c>, to the tick, with its offset.</summary>
    public static StateCodec<DateTimeOffset> DateTimeOffset { get; } = Of("datetimeoffset",
        static (w, v) => { w.Write(v.Ticks); w.Write(v.Offset.Ticks); },
        static r => new DateTimeOffset(r.ReadInt64(), new TimeSpan(r.ReadInt64())));
    /// <summary><c>Guid</c>.</summary>
    public static StateCodec<Guid> Guid { get; } = Of("guid", static (w, v) => w.Write(v.ToByteArray()), static r => new Guid(ReadExactly(r, 16)));

    /// <summary>
    /// A TorchSharp tensor, null included: its dtype, shape and values (TorchSharp's own format), read back on the CPU
    /// and outside every dispose scope. The tensor read is new; the caller owns it.
    /// </summary>
    public static StateCodec<Tensor> Tensor { get; } = Reference<Tensor>("tensor", static (w, t) => t.Save(w), static r => torch.Tensor.Load(r).DetachFromDisposeScope());

    /// <summary>A nested state (for a part with its own entries, such as a metric's).</summary>
    public static StateCodec<StateDict> State { get; } = Reference("state", static (w, s) => s.WriteTo(w), StateDict.ReadFrom);

    /// <summary>A nullable value type: a flag, then the value.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="value">The value's codec.</param>
    public static StateCodec<T?> Nullable<T>(StateCodec<T> value) where T : struct
    {
        ArgumentNullException.ThrowIfNull(value);
        return Of<T?>($"{value.Name}?",
            (w, v) =>
            {
                w.Write(v.HasValue);
                if (v is { } x) value.Write(w, x);
            },
            r => r.ReadBoolean() ? value.Read(r) : null);
    }

    /// <summary>An enum, as its underlying number (so renaming a member keeps old states readable; renumbering does not).</summary>
    /// <typeparam name="T">The enum type.</typeparam>
    public static StateCodec<T> Enum<T>() where T : struct, Enum =>
        Of("enum", static (w, v) => w.Write(FromEnum(v)), static r => ToEnum<T>(r.ReadInt64()));

    private static long FromEnum<T>(T value) where T : struct, Enum =>
        System.Enum.GetUnderlyingType(typeof(T)) == typeof(ulong)
            ? unchecked((long)Convert.ToUInt64(value, CultureInfo.InvariantCulture))
            : Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static T ToEnum<T>(long value) where T : struct, Enum =>
        (T)System.Enum.ToObject(typeof(T), System.Enum.GetUnderlyingType(typeof(T)) == typeof(ulong) ? unchecked((ulong)value) : value);

    /// <summary>An array (null included): its length, then its items.</summary>
    /// <typeparam name="T">The items' type.</typeparam>
    /// <param name="item">The items' codec.</param>
    public static StateCodec<T[]> Array<T>(StateCodec<T> item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return Reference<T[]>($"array<{item.Name}>", (w, a) => WriteItems(w, a, item), r => ReadItems(r, item, static n => new T[n], static (a, i, v) => a[i] = v));
    }

    /// <summary>A <c>List&lt;T&gt;</c> (null included). It reads what <see cref="ReadOnlyList{T}"/> writes, and the other way round.</summary>
    /// <typeparam name="T">The items' type.</typeparam>
    /// <param name="item">The items' codec.</param>
    public static StateCodec<List<T>> List<T>(StateCodec<T> item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return Reference<List<T>>($"list<{item.Name}>", (w, l) => WriteItems(w, l, item), r => ReadItems(r, item, static n => new List<T>(n), static (l, _, v) => l.Add(v)));
    }

    /// <summary>An <c>IReadOnlyList&lt;T&gt;</c> (null included), read back as an array.</summary>
    /// <typeparam name="T">The items' type.</typeparam>
    /// <param name="item">The items' codec.</param>
    public static StateCodec<IReadOnlyList<T>> ReadOnlyList<T>(StateCodec<T> item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return Reference<IReadOnlyList<T>>($"list<{item.Name}>", (w, l) => WriteItems(w, l, item), r => ReadItems(r, item, static n => new T[n], static (a, i, v) => a[i] = v));
    }

    /// <summary>A <c>Dictionary&lt;string, T&gt;</c> (null included), in its enumeration order.</summary>
    /// <typeparam name="T">The values' type (the keys are strings).</typeparam>
    /// <param name="value">The values' codec.</param>
    public static StateCodec<Dictionary<string, T>> Dictionary<T>(StateCodec<T> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Reference<Dictionary<string, T>>($"dict<{value.Name}>", (w, d) => WritePairs(w, d, value), r => ReadPairs(r, value));
    }

    /// <summary>An <c>IReadOnlyDictionary&lt;string, T&gt;</c> (null included), read back as a <c>Dictionary</c>.</summary>
    /// <typeparam name="T">The values' type (the keys are strings).</typeparam>
    /// <param name="value">The values' codec.</param>
    public static StateCodec<IReadOnlyDictionary<string, T>> ReadOnlyDictionary<T>(StateCodec<T> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Reference<IReadOnlyDictionary<string, T>>($"dict<{value.Name}>", (w, d) => WritePairs(w, d, value), r => ReadPairs(r, value));
    }

    /// <summary>
    /// The codec of a simple type, for <see cref="StateDict.Set{T}(string, T)"/>: the numbers, <c>bool</c>, <c>char</c>,
    /// <c>string</c>, <c>TimeSpan</c>, <c>DateTime</c>, <c>DateTimeOffset</c>, <c>Guid</c>, <c>Tensor</c>, the nullable
    /// value types of these, and arrays and lists of any of them.
    /// </summary>
    /// <typeparam name="T">The type whose codec is wanted.</typeparam>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is none of these: compose its codec from the others.</exception>
    public static StateCodec<T> For<T>() => Simple<T>.Codec ?? throw new NotSupportedException(
        $"There is no ready-made state codec for {typeof(T).Name}; compose one from StateCodecs (for example StateCodecs.Dictionary(StateCodecs.Double)) " +
        "and pass it to Set and Get, or mark the member [Persist] and let the generator do it.");

    private static class Simple<T>
    {
        public static readonly StateCodec<T>? Codec = (StateCodec<T>?)Find(typeof(T));
    }

    private static readonly Lazy<Dictionary<Type, object>> SimpleCodecs = new(() =>
    {
        var scalars = new Dictionary<Type, object>();
        void Add<T>(StateCodec<T> codec)
        {
            scalars[typeof(T)] = codec;
            scalars[typeof(T[])] = Array(codec);
            scalars[typeof(List<T>)] = List(codec);
            scalars[typeof(IReadOnlyList<T>)] = ReadOnlyList(codec);
        }
        void AddValue<T>(StateCodec<T> codec) where T : struct
        {
            Add(codec);
            Add(Nullable(codec));
        }
        AddValue(Boolean); AddValue(Byte); AddValue(SByte); AddValue(Int16); AddValue(UInt16); AddValue(Int32); AddValue(UInt32);
        AddValue(Int64); AddValue(UInt64); AddValue(Single); AddValue(Double); AddValue(Decimal); AddValue(Char);
        AddValue(TimeSpan); AddValue(DateTime); AddValue(DateTimeOffset); AddValue(Guid);
        Add(String);
        Add(Tensor);
        Add(State);
        return scalars;
    });

    private static object? Find(Type type) => SimpleCodecs.Value.GetValueOrDefault(type);

    private static void WriteItems<T>(BinaryWriter w, IReadOnlyCollection<T> items, StateCodec<T> item)
    {
        w.Write(items.Count);
        foreach (var x in items) item.Write(w, x);
    }

    private static TList ReadItems<T, TList>(BinaryReader r, StateCodec<T> item, Func<int, TList> make, Action<TList, int, T> add)
    {
        var n = ReadCount(r);
        var list = make(n);
        for (var i = 0; i < n; i++) add(list, i, item.Read(r));
        return list;
    }

    private static void WritePairs<T>(BinaryWriter w, IReadOnlyCollection<KeyValuePair<string, T>> pairs, StateCodec<T> value)
    {
        w.Write(pairs.Count);
        foreach (var (k, v) in pairs)
        {
            w.Write(k);
            value.Write(w, v);
        }
    }

    private static Dictionary<string, T> ReadPairs<T>(BinaryReader r, StateCodec<T> value)
    {
        var n = ReadCount(r);
        var d = new Dictionary<string, T>(n, StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var k = r.ReadString();
            if (!d.TryAdd(k, value.Read(r))) throw new InvalidDataException($"The key `{k}` appears twice.");
        }
        return d;
    }

    private static int ReadCount(BinaryReader r)
    {
        var n = r.ReadInt32();
        // Every item takes at least a byte: a count beyond what is left is damage, not a reason to allocate.
        if (n < 0 || n > r.BaseStream.Length - r.BaseStream.Position)
            throw new InvalidDataException($"A collection of {n} items does not fit in the {r.BaseStream.Length - r.BaseStream.Position} bytes left.");
        return n;
    }

    private static byte[] ReadExactly(BinaryReader r, int count)
    {
        var bytes = r.ReadBytes(count);
        if (bytes.Length != count) throw new EndOfStreamException();
        return bytes;
    }

    private static StateCodec<T> Of<T>(string name, Action<BinaryWriter, T> write, Func<BinaryReader, T> read) => new DelegateCodec<T>(name, write, read);

    /// <summary>A reference type: a flag for null, then the value (a null written reads back as null, whatever the annotation).</summary>
    private static StateCodec<T> Reference<T>(string name, Action<BinaryWriter, T> write, Func<BinaryReader, T> read) where T : class =>
        new DelegateCodec<T>(name,
            (w, v) =>
            {
                w.Write(v is not null);
                if (v is not null) write(w, v);
            },
            r => r.ReadBoolean() ? read(r) : null!);

    private sealed class DelegateCodec<T>(string name, Action<BinaryWriter, T> write, Func<BinaryReader, T> read) : StateCodec<T>(name)
    {
        public override void Write(BinaryWriter writer, T value) => write(writer, value);

        public override T Read(BinaryReader reader) => read(reader);
    }
}
