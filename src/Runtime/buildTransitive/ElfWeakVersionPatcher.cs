// One implementation, compiled twice: by MSBuild's RoslynCodeTaskFactory in consumers' builds (the build-time fix,
// see FastCallbacks.targets), and into the FastCallbacks assembly with FASTCALLBACKS_RUNTIME defined (the run-time
// fix for builds that never run, such as notebooks: Native/TorchNative.cs), where the MSBuild task is left out.
// Why: TorchSharp 0.107's libLibTorchSharp.so asks for libstdc++'s GLIBCXX_3.4.32 (GCC 13), which Debian 12 and
// Ubuntu 22.04 lack, so the loader refuses it. The only symbol it takes from that version,
// std::ios_base_library_init(), is a link-time marker that is never called. Marking that one version requirement
// WEAK in .gnu.version_r (VER_FLG_WEAK) lets the loader accept the library when the version is missing.
using System;
using System.IO;
using System.Text;
#if !FASTCALLBACKS_RUNTIME
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
#endif

namespace FastCallbacks.Build
{
#if !FASTCALLBACKS_RUNTIME
    /// <summary>MSBuild task: weakens a version requirement in the build output's copies of a native library.</summary>
    public sealed class WeakenElfVersionRequirement : Microsoft.Build.Utilities.Task
    {
        /// <summary>The native libraries to patch (copies in the build output).</summary>
        [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The version requirement to weaken, e.g. GLIBCXX_3.4.32.</summary>
        [Required] public string Version { get; set; } = "";

        /// <summary>Folders never to write into (the NuGet cache).</summary>
        public string[] ProtectedRoots { get; set; } = Array.Empty<string>();

        public override bool Execute()
        {
            if (ElfVersionPatcher.SystemLibStdCxxHas(Version))
            {
                Log.LogMessage(MessageImportance.Low, $"FastCallbacks: this system's libstdc++ has {Version}; nothing to patch.");
                return true;
            }
            foreach (var item in Files)
            {
                var path = Path.GetFullPath(item.ItemSpec);
                foreach (var root in ProtectedRoots)
                {
                    if (!string.IsNullOrEmpty(root) && path.StartsWith(Path.GetFullPath(root), StringComparison.Ordinal))
                    {
                        Log.LogWarning($"FastCallbacks: not patching {path}: it is inside {root}.");
                        goto next;
                    }
                }
                try
                {
                    var result = ElfVersionPatcher.WeakenFile(path, Version);
                    Log.LogMessage(MessageImportance.Normal, $"FastCallbacks: {result} {Version} in {path}.");
                }
                catch (Exception ex) when (ex is IOException || ex is InvalidDataException || ex is UnauthorizedAccessException)
                {
                    Log.LogWarning($"FastCallbacks: could not mark {Version} weak in {path}: {ex.Message}. TorchSharp may fail to load on this system.");
                }
            next:;
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif

    /// <summary>What <see cref="ElfVersionPatcher.Weaken"/> did.</summary>
    internal enum PatchResult
    {
        /// <summary>The requirement was strong and is now weak.</summary>
        Weakened,
        /// <summary>The requirement was weak already.</summary>
        AlreadyWeak,
        /// <summary>The library does not require that version.</summary>
        NotRequired,
    }

    /// <summary>Reads and edits the version-needed section (.gnu.version_r) of a 64-bit little-endian ELF file, and
    /// reads the libraries it needs (.dynamic's DT_NEEDED).</summary>
    internal static class ElfVersionPatcher
    {
        private const uint ShtDynamic = 6;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlgWeak = 0x2;
        private const long DtNeeded = 1;

        /// <summary>Weakens the requirement in <paramref name="path"/>. Writes a new file and moves it over the old
        /// one (never editing in place, so a hard link into a package cache is left alone), keeping its timestamp
        /// so incremental copies see it as unchanged.</summary>
        public static PatchResult WeakenFile(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var result = Weaken(bytes, version);
            if (result != PatchResult.Weakened) return result;
            var stamp = File.GetLastWriteTimeUtc(path);
            var temp = path + ".fastcallbacks.tmp";
            File.WriteAllBytes(temp, bytes);
            File.SetLastWriteTimeUtc(temp, stamp);
            // Replace the directory entry rather than rewrite the file (netstandard2.0 has no Move with overwrite).
            File.Delete(path);
            File.Move(temp, path);
            return result;
        }

        /// <summary>Sets VER_FLG_WEAK on every .gnu.version_r entry naming <paramref name="version"/>.</summary>
        public static PatchResult Weaken(byte[] elf, string version)
        {
            var result = PatchResult.NotRequired;
            foreach (var (flagsOffset, name) in Requirements(elf))
            {
                if (name != version) continue;
                var flags = ReadU16(elf, flagsOffset);
                if ((flags & VerFlgWeak) != 0)
                {
                    if (result == PatchResult.NotRequired) result = PatchResult.AlreadyWeak;
                    continue;
                }
                WriteU16(elf, flagsOffset, (ushort)(flags | VerFlgWeak));
                result = PatchResult.Weakened;
            }
            return result;
        }

        /// <summary>True when the requirement on <paramref name="version"/> is present and weak.</summary>
        public static bool IsWeak(byte[] elf, string version)
        {
            foreach (var (flagsOffset, name) in Requirements(elf))
                if (name == version) return (ReadU16(elf, flagsOffset) & VerFlgWeak) != 0;
            return false;
        }

        /// <summary>The libraries the file needs (its DT_NEEDED entries, such as <c>libtorch.so</c>), in the file's order.</summary>
        public static System.Collections.Generic.List<string> Needed(byte[] elf)
        {
            CheckHeader(elf);
            var shoff = checked((int)ReadU64(elf, 0x28));
            int shentsize = ReadU16(elf, 0x3A), shnum = ReadU16(elf, 0x3C);
            var needed = new System.Collections.Generic.List<string>();
            for (var i = 0; i < shnum; i++)
            {
                var sh = shoff + i * shentsize;
                if (ReadU32(elf, sh + 4) != ShtDynamic) continue;
                var offset = checked((int)ReadU64(elf, sh + 0x18));
                var size = checked((int)ReadU64(elf, sh + 0x20));
                var link = (int)ReadU32(elf, sh + 0x28);
                var strtab = checked((int)ReadU64(elf, shoff + link * shentsize + 0x18));
                for (var entry = offset; entry + 16 <= offset + size; entry += 16)
                {
                    var tag = (long)ReadU64(elf, entry);
                    if (tag == 0) break; // DT_NULL ends the table
                    if (tag == DtNeeded) needed.Add(ReadString(elf, strtab + checked((int)ReadU64(elf, entry + 8))));
                }
            }
            return needed;
        }

        /// <summary>Every (offset of vna_flags, version name) in the file's version-needed section.</summary>
        public static System.Collections.Generic.List<(int FlagsOffset, string Name)> Requirements(byte[] elf)
        {
            CheckHeader(elf);
            var shoff = checked((int)ReadU64(elf, 0x28));
            int shentsize = ReadU16(elf, 0x3A), shnum = ReadU16(elf, 0x3C);
            var found = new System.Collections.Generic.List<(int, string)>();
            for (var i = 0; i < shnum; i++)
            {
                var sh = shoff + i * shentsize;
                if (ReadU32(elf, sh + 4) != ShtGnuVerneed) continue;
                var offset = checked((int)ReadU64(elf, sh + 0x18));
                var link = (int)ReadU32(elf, sh + 0x28);
                var count = (int)ReadU32(elf, sh + 0x2C);
                var strtab = checked((int)ReadU64(elf, shoff + link * shentsize + 0x18));
                var verneed = offset;
                for (var n = 0; n < count; n++)
                {
                    int auxCount = ReadU16(elf, verneed + 2);
                    var aux = verneed + (int)ReadU32(elf, verneed + 8);
                    for (var a = 0; a < auxCount; a++)
                    {
                        var name = ReadString(elf, strtab + (int)ReadU32(elf, aux + 8));
                        found.Add((aux + 4, name));
                        aux += (int)ReadU32(elf, aux + 12);
                    }
                    verneed += (int)ReadU32(elf, verneed + 12);
                }
            }
            return found;
        }

        /// <summary>True when a libstdc++ this system's loader would find defines <paramref name="version"/>.</summary>
        public static bool SystemLibStdCxxHas(string version)
        {
            string[] candidates =
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
                "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib64/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            };
            var needle = Encoding.ASCII.GetBytes(version + "\0");
            foreach (var path in candidates)
            {
                if (!File.Exists(path)) continue;
                return IndexOf(File.ReadAllBytes(path), needle) >= 0;
            }
            return false;
        }

        private static void CheckHeader(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("Not an ELF file.");
            if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("Only 64-bit little-endian ELF files are supported.");
        }

        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (var i = 0; i <= haystack.Length - needle.Length; i++)
            {
                var j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        private static ushort ReadU16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);
        private static void WriteU16(byte[] b, int o, ushort v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }
        private static uint ReadU32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        private static ulong ReadU64(byte[] b, int o) => ReadU32(b, o) | (ulong)ReadU32(b, o + 4) << 32;

        private static string ReadString(byte[] b, int o)
        {
            var end = o;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, o, end - o);
        }
    }
}
