using System.Runtime.InteropServices;
using System.Text;

namespace FastCallbacks.Distributed;

/// <summary>The two binary interfaces MPI libraries are built with.</summary>
internal enum MpiAbi
{
    /// <summary>MPICH's: integer handles with fixed values (also MS-MPI, Intel MPI, Cray MPICH, MVAPICH).</summary>
    Mpich,
    /// <summary>Open MPI's: handles are the addresses of the library's predefined objects.</summary>
    OpenMpi,
}

/// <summary>
/// The MPI library of this process, loaded at run time, and the few functions and handles FastCallbacks uses. One
/// binding covers both ABIs: handles are held as pointer-sized integers (Open MPI's are pointers; MPICH's are
/// <c>int</c>s, which the 64-bit calling conventions pass in the low half of a register or stack slot, so a
/// zero-extended <c>nint</c> carries them unchanged), and the constants below are those of each ABI's <c>mpi.h</c>.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    // MPICH's mpi.h (MPICH 3/4; the same values in MS-MPI's and Intel MPI's headers).
    private const int MpichCommWorld = 0x44000000;
    private const int MpichFloat = 0x4c00040a;
    private const int MpichDouble = 0x4c00080b;
    private const int MpichInt = 0x4c000405;
    private const int MpichInt64 = 0x4c00083a;
    private const int MpichByte = 0x4c00010d;
    private const int MpichSum = 0x58000003;
    private const int MpichInfoNull = 0x1c000000;

    /// <summary>MPI_THREAD_SERIALIZED: MPI is called from one thread at a time (the fit's, and at exit the runtime's).</summary>
    public const int ThreadSerialized = 2;

    private MpiLibrary(string path, nint handle, MpiAbi abi)
    {
        Path = path;
        Abi = abi;
        if (abi == MpiAbi.OpenMpi)
        {
            CommWorld = Export(handle, "ompi_mpi_comm_world");
            Float = Export(handle, "ompi_mpi_float");
            Double = Export(handle, "ompi_mpi_double");
            Int = Export(handle, "ompi_mpi_int");
            Int64 = Export(handle, "ompi_mpi_int64_t");
            Byte = Export(handle, "ompi_mpi_byte");
            OpSum = Export(handle, "ompi_mpi_op_sum");
            InfoNull = Export(handle, "ompi_mpi_info_null");
            InPlace = 1;
            StatusIgnore = 0;
            CommTypeShared = 0;
        }
        else
        {
            CommWorld = MpichCommWorld;
            Float = MpichFloat;
            Double = MpichDouble;
            Int = MpichInt;
            Int64 = MpichInt64;
            Byte = MpichByte;
            OpSum = MpichSum;
            InfoNull = MpichInfoNull;
            InPlace = -1;
            StatusIgnore = 1;
            CommTypeShared = 1;
        }
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export(handle, "MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Export(handle, "MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export(handle, "MPI_Finalized");
        FinalizeFn = (delegate* unmanaged<int>)Export(handle, "MPI_Finalize");
        AbortFn = (delegate* unmanaged<nint, int, int>)Export(handle, "MPI_Abort");
        CommRank = (delegate* unmanaged<nint, int*, int>)Export(handle, "MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Export(handle, "MPI_Comm_size");
        CommSplitType = (delegate* unmanaged<nint, int, int, nint, nint*, int>)Export(handle, "MPI_Comm_split_type");
        Iallreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int>)Export(handle, "MPI_Iallreduce");
        Ibcast = (delegate* unmanaged<void*, int, nint, int, nint, nint*, int>)Export(handle, "MPI_Ibcast");
        Iallgather = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, nint*, int>)Export(handle, "MPI_Iallgather");
        Iallgatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, nint*, int>)Export(handle, "MPI_Iallgatherv");
        Ibarrier = (delegate* unmanaged<nint, nint*, int>)Export(handle, "MPI_Ibarrier");
        Test = (delegate* unmanaged<nint*, int*, nint, int>)Export(handle, "MPI_Test");
        GetLibraryVersion = (delegate* unmanaged<byte*, int*, int>)Export(handle, "MPI_Get_library_version");
    }

    /// <summary>The file or name the library was loaded from.</summary>
    public string Path { get; }

    /// <summary>The library's binary interface.</summary>
    public MpiAbi Abi { get; }

    public nint CommWorld { get; }
    public nint Float { get; }
    public nint Double { get; }
    public nint Int { get; }
    public nint Int64 { get; }
    public nint Byte { get; }
    public nint OpSum { get; }
    public nint InfoNull { get; }
    public nint InPlace { get; }
    public nint StatusIgnore { get; }
    public int CommTypeShared { get; }

    public delegate* unmanaged<int*, byte***, int, int*, int> InitThread { get; }
    public delegate* unmanaged<int*, int> Initialized { get; }
    public delegate* unmanaged<int*, int> Finalized { get; }
    public delegate* unmanaged<int> FinalizeFn { get; }
    public delegate* unmanaged<nint, int, int> AbortFn { get; }
    public delegate* unmanaged<nint, int*, int> CommRank { get; }
    public delegate* unmanaged<nint, int*, int> CommSize { get; }
    public delegate* unmanaged<nint, int, int, nint, nint*, int> CommSplitType { get; }
    public delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int> Iallreduce { get; }
    public delegate* unmanaged<void*, int, nint, int, nint, nint*, int> Ibcast { get; }
    public delegate* unmanaged<void*, int, nint, void*, int, nint, nint, nint*, int> Iallgather { get; }
    public delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, nint*, int> Iallgatherv { get; }
    public delegate* unmanaged<nint, nint*, int> Ibarrier { get; }
    public delegate* unmanaged<nint*, int*, nint, int> Test { get; }
    public delegate* unmanaged<byte*, int*, int> GetLibraryVersion { get; }

    /// <summary>The library's own description (<c>MPI_Get_library_version</c>), first line.</summary>
    public string Version()
    {
        // 8192 is MPICH's MPI_MAX_LIBRARY_VERSION_STRING, the largest of the two ABIs (Open MPI's is 256).
        var buffer = new byte[8192];
        int length;
        fixed (byte* p = buffer)
        {
            if (GetLibraryVersion(p, &length) != 0) return "unknown MPI";
        }
        var text = Encoding.UTF8.GetString(buffer, 0, Math.Clamp(length, 0, buffer.Length)).TrimEnd('\0');
        return text.Split('\n', 2)[0].Trim();
    }

    /// <summary>
    /// Loads the library at <paramref name="nameOrPath"/> (a file name searched the system's way, or a path) and
    /// tells its ABI by whether it exports Open MPI's predefined communicator.
    /// </summary>
    /// <param name="nameOrPath">The library to load.</param>
    /// <param name="library">The library, when loaded.</param>
    /// <param name="problem">Why it could not be used, when not.</param>
    public static bool TryLoad(string nameOrPath, out MpiLibrary? library, out string problem)
    {
        library = null;
        if (!NativeLoader.TryLoadGlobal(nameOrPath, out var handle, out problem)) return false;
        if (!NativeLibrary.TryGetExport(handle, "MPI_Init_thread", out _) || !NativeLibrary.TryGetExport(handle, "MPI_Iallreduce", out _))
        {
            problem = "it loads but does not export MPI_Init_thread and MPI_Iallreduce (not an MPI-3 library)";
            return false;
        }
        var abi = NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out _) ? MpiAbi.OpenMpi : MpiAbi.Mpich;
        try
        {
            library = new MpiLibrary(nameOrPath, handle, abi);
            problem = "";
            return true;
        }
        catch (EntryPointNotFoundException e)
        {
            problem = $"it is missing a function FastCallbacks needs ({e.Message})";
            return false;
        }
    }

    private static nint Export(nint handle, string name) =>
        NativeLibrary.TryGetExport(handle, name, out var address)
            ? address
            : throw new EntryPointNotFoundException(name);
}

/// <summary>
/// Loads native libraries with their symbols global. Open MPI loads its components as plug-ins that resolve
/// symbols of <c>libmpi</c> itself, which fails when <c>libmpi</c> was opened with local symbols, as .NET's
/// <see cref="NativeLibrary"/> opens libraries on Linux and macOS.
/// </summary>
internal static unsafe class NativeLoader
{
    private const int RtldNow = 2;

    public static bool TryLoadGlobal(string nameOrPath, out nint handle, out string problem)
    {
        problem = "";
        if (OperatingSystem.IsWindows())
        {
            if (NativeLibrary.TryLoad(nameOrPath, out handle)) return true;
            problem = "not found or not loadable";
            return false;
        }
        var (dlopenAddress, dlerrorAddress) = DynamicLoader();
        var dlopen = (delegate* unmanaged<byte*, int, nint>)dlopenAddress;
        var dlerror = (delegate* unmanaged<nint>)dlerrorAddress;
        var global = OperatingSystem.IsMacOS() ? 0x8 : 0x100;
        var name = Encoding.UTF8.GetBytes(nameOrPath + "\0");
        fixed (byte* p = name) handle = dlopen(p, RtldNow | global);
        if (handle != 0) return true;
        problem = Marshal.PtrToStringUTF8(dlerror()) ?? "not found";
        return false;
    }

    /// <summary>The addresses of dlopen and dlerror, from the C library (glibc 2.34 and later, macOS) or libdl (older glibc).</summary>
    private static (nint Dlopen, nint Dlerror) DynamicLoader()
    {
        string[] candidates = OperatingSystem.IsMacOS() ? ["/usr/lib/libSystem.dylib"] : ["libc.so.6", "libdl.so.2"];
        foreach (var name in candidates)
        {
            if (NativeLibrary.TryLoad(name, out var lib)
                && NativeLibrary.TryGetExport(lib, "dlopen", out var dlopen)
                && NativeLibrary.TryGetExport(lib, "dlerror", out var dlerror))
                return (dlopen, dlerror);
        }
        throw new PlatformNotSupportedException($"No dlopen found in {string.Join(" or ", candidates)}.");
    }
}
