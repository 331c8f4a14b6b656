using System.Runtime.InteropServices;

namespace Backprop.Distributed;

/// <summary>
/// The few MPI C functions the data-parallel trainer calls, bound to Open MPI's <c>libmpi.so.40</c> through function
/// pointers. Open MPI's handles (communicator, datatypes, operations) are the addresses of exported globals
/// (<c>ompi_mpi_comm_world</c>, <c>ompi_mpi_float</c>, …), passed as pointers; MPICH's are <c>int</c> constants, a
/// different flavour this binding does not speak (it says so when it finds a library without Open MPI's globals).
/// </summary>
internal sealed unsafe class OpenMpi
{
    /// <summary>The environment variable that names the MPI library to load instead of the usual names.</summary>
    public const string LibraryVariable = "BACKPROP_MPI_LIBRARY";

    /// <summary>MPI_IN_PLACE in Open MPI: the pointer value 1.</summary>
    public static readonly nint InPlace = 1;

    /// <summary>MPI_STATUS_IGNORE in Open MPI: a null pointer.</summary>
    public static readonly nint StatusIgnore = 0;

    private static readonly string[] Candidates = ["libmpi.so.40", "libmpi.so", "libmpi.so.12"];

    private readonly delegate* unmanaged<int*, nint, int> _init;
    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<nint, int*, int> _commRank;
    private readonly delegate* unmanaged<nint, int*, int> _commSize;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int> _allgather;
    private readonly delegate* unmanaged<void*, int, nint, int, int, nint, int> _send;
    private readonly delegate* unmanaged<void*, int, nint, int, int, nint, nint, int> _recv;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;

    private OpenMpi(nint library, string path)
    {
        Path = path;
        _init = (delegate* unmanaged<int*, nint, int>)Export(library, "MPI_Init");
        _initialized = (delegate* unmanaged<int*, int>)Export(library, "MPI_Initialized");
        _finalized = (delegate* unmanaged<int*, int>)Export(library, "MPI_Finalized");
        _finalize = (delegate* unmanaged<int>)Export(library, "MPI_Finalize");
        _commRank = (delegate* unmanaged<nint, int*, int>)Export(library, "MPI_Comm_rank");
        _commSize = (delegate* unmanaged<nint, int*, int>)Export(library, "MPI_Comm_size");
        _bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export(library, "MPI_Bcast");
        _allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export(library, "MPI_Allreduce");
        _allgather = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)Export(library, "MPI_Allgather");
        _send = (delegate* unmanaged<void*, int, nint, int, int, nint, int>)Export(library, "MPI_Send");
        _recv = (delegate* unmanaged<void*, int, nint, int, int, nint, nint, int>)Export(library, "MPI_Recv");
        _barrier = (delegate* unmanaged<nint, int>)Export(library, "MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Export(library, "MPI_Abort");
        CommWorld = Export(library, "ompi_mpi_comm_world");
        Float = Export(library, "ompi_mpi_float");
        Double = Export(library, "ompi_mpi_double");
        Int = Export(library, "ompi_mpi_int");
        Byte = Export(library, "ompi_mpi_byte");
        Sum = Export(library, "ompi_mpi_op_sum");
    }

    /// <summary>The file that was loaded.</summary>
    public string Path { get; }

    /// <summary>MPI_COMM_WORLD.</summary>
    public nint CommWorld { get; }

    /// <summary>MPI_FLOAT.</summary>
    public nint Float { get; }

    /// <summary>MPI_DOUBLE.</summary>
    public nint Double { get; }

    /// <summary>MPI_INT.</summary>
    public nint Int { get; }

    /// <summary>MPI_BYTE.</summary>
    public nint Byte { get; }

    /// <summary>MPI_SUM.</summary>
    public nint Sum { get; }

    /// <summary>Loads the library: <see cref="LibraryVariable"/> when set, else <c>libmpi.so.40</c> (Open MPI 3–5),
    /// <c>libmpi.so</c>, then <c>libmpi.so.12</c>.</summary>
    /// <exception cref="DllNotFoundException">No MPI library was found.</exception>
    /// <exception cref="NotSupportedException">The library found is not Open MPI (it lacks Open MPI's handle globals).</exception>
    public static OpenMpi Load()
    {
        string? configured = Environment.GetEnvironmentVariable(LibraryVariable);
        string[] names = string.IsNullOrEmpty(configured) ? Candidates : [configured];
        foreach (string name in names)
        {
            if (!NativeLibrary.TryLoad(name, out nint library))
            {
                continue;
            }

            if (!NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out _))
            {
                throw new NotSupportedException(
                    $"The MPI library '{name}' is not Open MPI (it has no 'ompi_mpi_comm_world'): Backprop.Distributed binds Open MPI's pointer handles only; MPICH's integer handles are not supported. Point {LibraryVariable} at Open MPI's libmpi.so.40.");
            }

            return new OpenMpi(library, name);
        }

        throw new DllNotFoundException(string.IsNullOrEmpty(configured)
            ? $"No MPI library was found (tried {string.Join(", ", Candidates)}). Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev), or set {LibraryVariable} to the path of Open MPI's libmpi.so.40, and start the program with mpiexec."
            : $"The MPI library '{configured}' named by {LibraryVariable} could not be loaded: check the path, or unset the variable to search for libmpi.so.40.");
    }

    public bool IsInitialized()
    {
        int flag;
        Check(_initialized(&flag), "MPI_Initialized");
        return flag != 0;
    }

    public bool IsFinalized()
    {
        int flag;
        Check(_finalized(&flag), "MPI_Finalized");
        return flag != 0;
    }

    public void Init() => Check(_init(null, 0), "MPI_Init");

    public void FinalizeMpi() => Check(_finalize(), "MPI_Finalize");

    public int Rank(nint comm)
    {
        int value;
        Check(_commRank(comm, &value), "MPI_Comm_rank");
        return value;
    }

    public int Size(nint comm)
    {
        int value;
        Check(_commSize(comm, &value), "MPI_Comm_size");
        return value;
    }

    public void Bcast(void* buffer, int count, nint type, int root, nint comm) => Check(_bcast(buffer, count, type, root, comm), "MPI_Bcast");

    public void Allreduce(void* send, void* receive, int count, nint type, nint op, nint comm) =>
        Check(_allreduce(send, receive, count, type, op, comm), "MPI_Allreduce");

    public void Allgather(void* send, int sendCount, nint sendType, void* receive, int receiveCount, nint receiveType, nint comm) =>
        Check(_allgather(send, sendCount, sendType, receive, receiveCount, receiveType, comm), "MPI_Allgather");

    public void Send(void* buffer, int count, nint type, int destination, int tag, nint comm) =>
        Check(_send(buffer, count, type, destination, tag, comm), "MPI_Send");

    public void Recv(void* buffer, int count, nint type, int source, int tag, nint comm) =>
        Check(_recv(buffer, count, type, source, tag, comm, StatusIgnore), "MPI_Recv");

    public void Barrier(nint comm) => Check(_barrier(comm), "MPI_Barrier");

    public void Abort(nint comm, int errorCode) => _abort(comm, errorCode);

    private static nint Export(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out nint address)
            ? address
            : throw new NotSupportedException($"The MPI library has no '{name}': it is not a supported Open MPI (3.x–5.x).");

    private static void Check(int code, string function)
    {
        // MPI_SUCCESS is 0; with MPI's default error handler (errors are fatal) a failing call aborts before returning.
        if (code != 0)
        {
            throw new InvalidOperationException($"{function} failed with MPI error code {code}.");
        }
    }
}
