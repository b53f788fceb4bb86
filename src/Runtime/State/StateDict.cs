using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FastCallbacks;

/// <summary>
/// A saved state: named values, each stored with the name of its type (see <see cref="StateCodec{T}"/>), in the order
/// they were set. What a callback (<see cref="IStatefulCallback"/>), a metric or a data loader writes into a training
/// checkpoint; Lightning's and PyTorch's <c>state_dict</c>.
/// </summary>
/// <remarks>
/// A value is encoded when it is set, so the state keeps what the value was then, not a reference to it; it is decoded
/// when it is read, checked against the type it was saved as.
/// </remarks>
public sealed class StateDict
{
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>The names of the entries, in the order they were set.</summary>
    public IReadOnlyList<string> Keys => _entries.Select(e => e.Key).ToArray();

    /// <summary>The number of entries.</summary>
    public int Count => _entries.Count;

    /// <summary>Whether there is an entry called <paramref name="key"/>.</summary>
    /// <param name="key">The entry's name.</param>
    public bool Contains(string key) => _index.ContainsKey(key);

    /// <summary>The type an entry was saved as (a <see cref="StateCodec{T}.Name"/>, such as <c>list&lt;double&gt;</c>), or null when there is none.</summary>
    /// <param name="key">The entry's name.</param>
    public string? TypeOf(string key) => _index.TryGetValue(key, out var i) ? _entries[i].Type : null;

    /// <summary>Adds an entry.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The entry's name, unique in this state.</param>
    /// <param name="value">The value; it is encoded now.</param>
    /// <param name="codec">How to encode it (see <see cref="StateCodecs"/>).</param>
    /// <exception cref="ArgumentException">There is already an entry called <paramref name="key"/>.</exception>
    public void Set<T>(string key, T value, StateCodec<T> codec)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(codec);
        if (_index.ContainsKey(key))
            throw new ArgumentException(
                $"The state already has an entry `{key}`: two values are saved under one name. Give one another name ([Persist(\"{key}2\")] on a member, or another key in SaveState).",
                nameof(key));
        using var ms = new MemoryStream();
        using (var writer = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) codec.Write(writer, value);
        _index[key] = _entries.Count;
        _entries.Add(new Entry(key, codec.Name, ms.ToArray()));
    }

    /// <summary>Adds an entry of a simple type (numbers, <c>bool</c>, <c>string</c>, <c>TimeSpan</c>, <c>DateTime</c>, <c>Tensor</c>, their nullable forms, and arrays and lists of them).</summary>
    /// <typeparam name="T">The value's type; <see cref="StateCodecs.For{T}"/> gives its codec.</typeparam>
    /// <param name="key">The entry's name, unique in this state.</param>
    /// <param name="value">The value; it is encoded now.</param>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> needs a codec: use <see cref="Set{T}(string, T, StateCodec{T})"/>.</exception>
    public void Set<T>(string key, T value) => Set(key, value, StateCodecs.For<T>());

    /// <summary>Reads an entry.</summary>
    /// <typeparam name="T">The type the entry was saved as.</typeparam>
    /// <param name="key">The entry's name.</param>
    /// <param name="codec">How it was encoded; its <see cref="StateCodec{T}.Name"/> must be the one saved.</param>
    /// <exception cref="InvalidDataException">There is no such entry, it was saved as another type, or its data does not decode.</exception>
    public T Get<T>(string key, StateCodec<T> codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        if (!_index.TryGetValue(key, out var i))
            throw new InvalidDataException(
                $"The saved state has no `{key}`; it holds {(_entries.Count == 0 ? "nothing" : string.Join(", ", _entries.Select(e => $"`{e.Key}`")))}.");
        return Decode(_entries[i], codec);
    }

    /// <summary>Reads an entry of a simple type (see <see cref="Set{T}(string, T)"/>).</summary>
    /// <typeparam name="T">The type the entry was saved as; <see cref="StateCodecs.For{T}"/> gives its codec.</typeparam>
    /// <param name="key">The entry's name.</param>
    /// <exception cref="InvalidDataException">There is no such entry, it was saved as another type, or its data does not decode.</exception>
    public T Get<T>(string key) => Get(key, StateCodecs.For<T>());

    /// <summary>Reads an entry if there is one (for values a later version of a callback added).</summary>
    /// <typeparam name="T">The type the entry was saved as.</typeparam>
    /// <param name="key">The entry's name.</param>
    /// <param name="codec">How it was encoded.</param>
    /// <param name="value">The value, when there is an entry.</param>
    /// <returns>Whether there is an entry called <paramref name="key"/>.</returns>
    /// <exception cref="InvalidDataException">The entry was saved as another type, or its data does not decode.</exception>
    public bool TryGet<T>(string key, StateCodec<T> codec, [MaybeNullWhen(false)] out T value)
    {
        ArgumentNullException.ThrowIfNull(codec);
        if (!_index.TryGetValue(key, out var i))
        {
            value = default;
            return false;
        }
        value = Decode(_entries[i], codec)!;
        return true;
    }

    private static T Decode<T>(Entry entry, StateCodec<T> codec)
    {
        if (entry.Type != codec.Name)
            throw new InvalidDataException($"`{entry.Key}` was saved as {entry.Type} and is read as {codec.Name}.");
        try
        {
            using var ms = new MemoryStream(entry.Data, writable: false);
            using var reader = new BinaryReader(ms, Encoding.UTF8);
            var value = codec.Read(reader);
            if (ms.Position != ms.Length)
                throw new InvalidDataException($"{ms.Length - ms.Position} bytes are left over after the value.");
            return value;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"`{entry.Key}` ({entry.Type}) does not decode: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => "{" + string.Join(", ", _entries.Select(e => $"{e.Key}: {e.Type}")) + "}";

    /// <summary>Writes the entries (for the checkpoint file and <see cref="StateCodecs.State"/>).</summary>
    internal void WriteTo(BinaryWriter writer)
    {
        writer.Write(_entries.Count);
        foreach (var e in _entries)
        {
            writer.Write(e.Key);
            writer.Write(e.Type);
            writer.Write(e.Data.Length);
            writer.Write(e.Data);
        }
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The data is not a state.</exception>
    internal static StateDict ReadFrom(BinaryReader reader)
    {
        var state = new StateDict();
        var count = reader.ReadInt32();
        if (count < 0) throw new InvalidDataException($"A state cannot have {count} entries.");
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadString();
            var type = reader.ReadString();
            var length = reader.ReadInt32();
            if (length < 0) throw new InvalidDataException($"The entry `{key}` has a length of {length} bytes.");
            var data = reader.ReadBytes(length);
            if (data.Length != length) throw new EndOfStreamException();
            if (!state._index.TryAdd(key, state._entries.Count)) throw new InvalidDataException($"The entry `{key}` appears twice.");
            state._entries.Add(new Entry(key, type, data));
        }
        return state;
    }

    /// <summary>The state as bytes (its <see cref="WriteTo"/> form).</summary>
    internal byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        using (var writer = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) WriteTo(writer);
        return ms.ToArray();
    }

    /// <summary>A state from its <see cref="ToBytes"/> form.</summary>
    internal static StateDict FromBytes(byte[] bytes)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        using var reader = new BinaryReader(ms, Encoding.UTF8);
        var state = ReadFrom(reader);
        if (ms.Position != ms.Length) throw new InvalidDataException($"{ms.Length - ms.Position} bytes are left over after the state.");
        return state;
    }

    private sealed record Entry(string Key, string Type, byte[] Data);
}
