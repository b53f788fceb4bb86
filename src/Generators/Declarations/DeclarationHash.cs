using System;

namespace FastCallbacks.Generators.Declarations;

/// <summary>
/// A 128-bit hash of declaration text: two 64-bit lanes with different multipliers (multiply, then rotate, so high
/// bits reach low ones), each finished with an avalanche step. Not cryptographic; its inputs are a user's own source files, not an adversary's, and 128 bits make an
/// accidental collision (which would keep a stale generated file until the next declaration edit) negligible.
/// </summary>
internal readonly record struct DeclarationHash(ulong Low, ulong High)
{
    /// <summary>Accumulates characters and values into a <see cref="DeclarationHash"/>.</summary>
    public struct Builder
    {
        private ulong _a;
        private ulong _b;
        private long _length;
        private bool _started;

        public void Add(char c)
        {
            Start();
            _a = RotateLeft((_a ^ c) * 0x100000001B3UL, 29);
            _b = RotateLeft((_b ^ c) * 0x9E3779B97F4A7C15UL, 23);
            _length++;
        }

        public void Add(char[] chars, int count)
        {
            Start();
            var (a, b) = (_a, _b);
            var i = 0;
            // Four characters per step: one multiply per lane for 64 bits of text.
            for (; i + 4 <= count; i += 4)
            {
                var word = chars[i] | ((ulong)chars[i + 1] << 16) | ((ulong)chars[i + 2] << 32) | ((ulong)chars[i + 3] << 48);
                a = RotateLeft((a ^ word) * 0x100000001B3UL, 29);
                b = RotateLeft((b ^ word) * 0x9E3779B97F4A7C15UL, 23);
            }
            for (; i < count; i++)
            {
                a = RotateLeft((a ^ chars[i]) * 0x100000001B3UL, 29);
                b = RotateLeft((b ^ chars[i]) * 0x9E3779B97F4A7C15UL, 23);
            }
            (_a, _b) = (a, b);
            _length += count;
        }

        /// <summary>The text, after its length: no two sequences of strings hash the same characters.</summary>
        public void Add(string? text)
        {
            text ??= string.Empty;
            Add((ulong)text.Length);
            foreach (var c in text) Add(c);
        }

        public void Add(ulong value)
        {
            for (var i = 0; i < 4; i++) Add((char)(value >> (16 * i)));
        }

        public void Add(DeclarationHash hash)
        {
            Add(hash.Low);
            Add(hash.High);
        }

        public readonly DeclarationHash ToHash()
        {
            var (a, b) = _started ? (_a, _b) : (OffsetA, OffsetB);
            return new DeclarationHash(Mix(a ^ (ulong)_length), Mix(b + (ulong)_length));
        }

        private void Start()
        {
            if (_started) return;
            (_a, _b, _started) = (OffsetA, OffsetB, true);
        }

        private const ulong OffsetA = 0xCBF29CE484222325UL;
        private const ulong OffsetB = 0x27D4EB2F165667C5UL;

        private static ulong RotateLeft(ulong value, int count) => (value << count) | (value >> (64 - count));

        // MurmurHash3's 64-bit finalizer: every input bit affects every output bit.
        private static ulong Mix(ulong h)
        {
            h ^= h >> 33;
            h *= 0xFF51AFD7ED558CCDUL;
            h ^= h >> 33;
            h *= 0xC4CEB9FE1A85EC53UL;
            h ^= h >> 33;
            return h;
        }
    }

    public override string ToString() => $"{High:x16}{Low:x16}";
}
