using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Distributed;

/// <summary>
/// MPI for this process: <see cref="World"/> initialises it on first use (<c>MPI_Init</c>) and finalises it when the
/// process exits. Run the program under <c>mpiexec -n N</c>; started without it, the program is one process of one.
/// </summary>
/// <remarks>
/// <para>The library: Open MPI's <c>libmpi.so.40</c> (Debian and Ubuntu: <c>apt-get install openmpi-bin
/// libopenmpi-dev</c>), or the file named by the environment variable <c>BACKPROP_MPI_LIBRARY</c>.</para>
/// <para>Thread safety: initialise from one thread; MPI is initialised for one thread (MPI_THREAD_SINGLE) and the
/// communicator must be used from one thread at a time.</para>
/// </remarks>
public static class Mpi
{
    private static readonly Lock Gate = new();
    private static MpiCommunicator? _world;

    /// <summary>Every process <c>mpiexec</c> started (MPI_COMM_WORLD), MPI initialised on first use.</summary>
    /// <exception cref="DllNotFoundException">No MPI library was found; the message says how to install Open MPI.</exception>
    /// <exception cref="NotSupportedException">The library found is not Open MPI.</exception>
    public static Communicator World
    {
        get
        {
            lock (Gate)
            {
                if (_world is null)
                {
                    var library = OpenMpi.Load();
                    if (!library.IsInitialized())
                    {
                        library.Init();
                        AppDomain.CurrentDomain.ProcessExit += (_, _) => FinalizeMpi(library);
                    }

                    _world = new MpiCommunicator(library, library.CommWorld);
                }

                return _world;
            }
        }
    }

    /// <summary>Whether an MPI library can be loaded here (without initialising it).</summary>
    /// <returns>True when <see cref="World"/> would find a supported library.</returns>
    public static bool IsLibraryAvailable()
    {
        try
        {
            _ = OpenMpi.Load();
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>Finalises MPI now (it is otherwise finalised when the process exits); <see cref="World"/> must not be used
    /// afterwards. Every process must call it. Calling it again, or before MPI was initialised, does nothing.</summary>
    public static void Shutdown()
    {
        lock (Gate)
        {
            if (_world is not null)
            {
                FinalizeMpi(_world.Library);
            }
        }
    }

    private static void FinalizeMpi(OpenMpi library)
    {
        if (library.IsInitialized() && !library.IsFinalized())
        {
            library.FinalizeMpi();
        }
    }
}

/// <summary>An MPI communicator of Open MPI (a pointer handle).</summary>
internal sealed unsafe class MpiCommunicator : Communicator
{
    private readonly nint _comm;

    public MpiCommunicator(OpenMpi library, nint comm)
    {
        Library = library;
        _comm = comm;
        Rank = library.Rank(comm);
        Size = library.Size(comm);
    }

    public OpenMpi Library { get; }

    public override int Rank { get; }

    public override int Size { get; }

    public override void Barrier() => Library.Barrier(_comm);

    public override void Broadcast<T>(Span<T> data, int root)
    {
        CheckRank(root, nameof(root), allowSelf: true);
        var bytes = MemoryMarshal.AsBytes(data);
        fixed (byte* p = bytes)
        {
            Library.Bcast(p, bytes.Length, Library.Byte, root, _comm);
        }
    }

    public override void AllReduceSum<T>(Span<T> data)
    {
        nint type = typeof(T) == typeof(float) ? Library.Float
            : typeof(T) == typeof(double) ? Library.Double
            : typeof(T) == typeof(int) ? Library.Int
            : throw new NotSupportedException($"AllReduceSum adds float, double or int values, not {typeof(T).Name}.");
        fixed (T* p = data)
        {
            Library.Allreduce((void*)OpenMpi.InPlace, p, data.Length, type, Library.Sum, _comm);
        }
    }

    public override void AllGather<T>(ReadOnlySpan<T> mine, Span<T> all)
    {
        if (all.Length != (long)mine.Length * Size)
        {
            throw new ArgumentException($"all must hold Size × {mine.Length} = {(long)mine.Length * Size} values, but it holds {all.Length}.", nameof(all));
        }

        int bytes = mine.Length * Unsafe.SizeOf<T>();
        fixed (T* send = mine)
        fixed (T* receive = all)
        {
            Library.Allgather(send, bytes, Library.Byte, receive, bytes, Library.Byte, _comm);
        }
    }

    public override void Send<T>(ReadOnlySpan<T> data, int destination, int tag)
    {
        CheckRank(destination, nameof(destination), allowSelf: false);
        var bytes = MemoryMarshal.AsBytes(data);
        fixed (byte* p = bytes)
        {
            Library.Send(p, bytes.Length, Library.Byte, destination, tag, _comm);
        }
    }

    public override void Receive<T>(Span<T> data, int source, int tag)
    {
        CheckRank(source, nameof(source), allowSelf: false);
        var bytes = MemoryMarshal.AsBytes(data);
        fixed (byte* p = bytes)
        {
            Library.Recv(p, bytes.Length, Library.Byte, source, tag, _comm);
        }
    }

    public override void Abort(int errorCode)
    {
        Library.Abort(_comm, errorCode);
        Environment.Exit(errorCode);
    }
}
