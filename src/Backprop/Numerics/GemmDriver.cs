using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Numerics;

// The blocking of one GEMM call: fixed by the shape alone, never by the degree of parallelism, so that every element
// of C is summed in the same order however the tiles are shared out.
internal struct GemmPlan
{
    internal int M;
    internal int N;
    internal int K;
    internal nint Ldb;
    internal nint Ldc;
    internal bool TransposeB;
    internal bool Accumulate;
    internal bool HasBias;

    // Element (i, p) of op(A) is at a + i·ARow + p·AStep.
    internal nint ARow;
    internal nint AStep;

    // The K block: every block but the last has exactly this many steps.
    internal int Kc;

    // Column panels of 2·lanes columns (the last may be narrower) and row tiles of TileRows rows (the last may be
    // shorter): as few tiles as TOps.Rows allows, of balanced heights, so that m = 10 runs as 5 + 5 rows, not 8 + 2.
    internal int Panels;
    internal int RowTiles;
    internal int TileRows;

    // Whether the kernels read row-major B in place instead of packing it: as fast while few row tiles share a panel.
    internal bool DirectB;

    // Whether the parts of a parallel call take row tiles rather than column panels.
    internal bool SplitRows;

    // Whether A is stored k×m (op(A) = Aᵀ).
    internal bool ATransposed;

    // Whether each part copies its rows of a stored-k×m A, K block by K block, into a buffer laid out tile by tile
    // (element (i, p) of a tile at p·TileRows + i) before its panels read them: the rows of A are then read from
    // consecutive memory instead of from rows whose stride makes them share L1 sets (StrideConflicts).
    internal bool PackA;

    // Whether the product runs on GemmColumns (vectors along the rows of C, for few columns): then the row tiles are
    // GemmColumns.TileRows high and there is one panel.
    internal bool Columns;
}

// C ← op(A)·op(B) [+ C] [+ bias] for one vector width: K blocks of at most KcMax steps; per block, column panels of
// op(B) (packed into a per-thread buffer unless read in place); per panel, row tiles through the micro-kernels.
internal static class GemmDriver<TOps, TVec, T>
    where TOps : struct, IGemmSimd<TVec, T>
    where TVec : struct
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // Longest K block. A longer block reloads C fewer times and reads each row of A further in one go; its panel of B
    // (KcMax × 2·lanes elements, 100 KB in float) is then read from L2 rather than L1, which the kernels' steady stream
    // of two vectors a step hides. 800 keeps a 784-input layer's K in one block: a prediction chunk's first product
    // (128×128×784, B read in place) ran 8% faster than in four blocks of 196, the whole 1,000-row prediction 5-7%;
    // training epochs were unchanged (784-128-10) or within 2% either way; 1024 (the wide network's K in one block of
    // 1024 instead of two of 512) made its epochs 4% slower. The blocking is a function of k alone: every path, thread
    // count and batch size sums an element of C in the same blocks.
    internal const int KcMax = 800;

    // Row tiles up to which row-major B is read in place. Packing only pays once many tiles reuse a panel (or when long
    // row strides start to conflict in the cache): measured equal at 16 tiles, and better for 1024×1024.
    private const int DirectMaxRowTiles = 16;

    // The least work (2·m·n·k) per part of a split call; whether a call is split at all is ComputeContext.WouldSplit.
    private const long PartMinFlops = 1L << 16;

    // The same contract as Gemm.MultiplyUnchecked; allowColumns: false forces the row-broadcast kernels (tests).
    internal static void Multiply(
        ReadOnlySpan<T> a, int lda, bool transposeA,
        ReadOnlySpan<T> b, int ldb, bool transposeB,
        Span<T> c, int ldc,
        int m, int n, int k,
        bool accumulate, ReadOnlySpan<T> bias, int maxDegreeOfParallelism, ComputeContext context, bool preferRowSplit = false, bool allowColumns = true)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        ref T cRef = ref MemoryMarshal.GetReference(c);
        ref T biasRef = ref MemoryMarshal.GetReference(bias);
        if (k == 0)
        {
            AddBiasOnly(ref cRef, ldc, m, n, accumulate, ref biasRef, !bias.IsEmpty);
            return;
        }

        GemmPlan plan = CreatePlan(lda, transposeA, ldb, transposeB, ldc, m, n, k, accumulate, !bias.IsEmpty, allowColumns);
        ref T aRef = ref MemoryMarshal.GetReference(a);
        ref T bRef = ref MemoryMarshal.GetReference(b);
        int parts = PartCount(ref plan, context, maxDegreeOfParallelism, preferRowSplit);
        if (parts > 1 && RunParallel(context, in plan, parts, ref aRef, ref bRef, ref cRef, ref biasRef))
        {
            return;
        }

        RunPart(in plan, ref aRef, ref bRef, ref cRef, ref biasRef, 0, 1);
    }

    // The blocking for a shape (m, n, k > 0).
    // allowColumns: false forces the row-broadcast kernels (for tests that compare the two paths bit for bit).
    internal static GemmPlan CreatePlan(
        int lda, bool transposeA, int ldb, bool transposeB, int ldc, int m, int n, int k, bool accumulate, bool hasBias, bool allowColumns = true)
    {
        int lanes = TOps.Lanes;
        int blocks = (k + KcMax - 1) / KcMax;
        int kc = (k + blocks - 1) / blocks;
        kc = Math.Min(KcMax, (kc + lanes - 1) / lanes * lanes);
        // What every plan holds; the kernel family decides the tiles.
        var plan = new GemmPlan
        {
            M = m,
            N = n,
            K = k,
            Ldb = ldb,
            Ldc = ldc,
            TransposeB = transposeB,
            Accumulate = accumulate,
            HasBias = hasBias,
            ARow = transposeA ? 1 : lda,
            AStep = transposeA ? lda : 1,
            Kc = kc,
            ATransposed = transposeA,
        };
        if (typeof(TVec) == typeof(Vector512<T>) && allowColumns && GemmColumns<T>.Applies(m, n, transposeA))
        {
            int tileRows = GemmColumns<T>.TileRows(m);
            return plan with
            {
                Panels = 1,
                RowTiles = (m + tileRows - 1) / tileRows,
                TileRows = tileRows,
                Columns = true,
            };
        }

        int rowTiles = (m + TOps.Rows - 1) / TOps.Rows;
        return plan with
        {
            Panels = (n + (2 * lanes) - 1) / (2 * lanes),
            RowTiles = rowTiles,
            TileRows = (m + rowTiles - 1) / rowTiles,
            DirectB = !transposeB && rowTiles <= DirectMaxRowTiles && !StrideConflicts(ldb),
            PackA = transposeA && StrideConflicts(lda),
        };
    }

    // Whether rows `ld` elements apart fall into so few sets of the L1 cache that a panel read in place evicts itself:
    // a row stride that is a multiple of 2 KB uses at most two of the 64 sets (4 KB per way) for each column line.
    // 128×1024×1024 NN (B's rows 4 KB apart) ran at 60-66% of the FMA peak reading B in place, 128×1000×1000 at 73-85%;
    // 1024×1024×128 TN (the stored-k×m A's rows 4 KB apart) at 79-82%, 1000×1000×128 at 88-91%.
    internal static bool StrideConflicts(int ld) => (ld * (long)Unsafe.SizeOf<T>()) % StrideConflictBytes == 0;

    // See StrideConflicts.
    private const int StrideConflictBytes = 2048;

    // How many parts to split the call into, and whether they take row tiles or column panels. With preferRowSplit the
    // parts take contiguous row ranges whenever there are enough row tiles: the caller wants part p to own the same
    // share of C that part p of an elementwise pass over C (such as the optimizer's update of a weight gradient) owns.
    internal static int PartCount(ref GemmPlan plan, ComputeContext context, int maxDegreeOfParallelism, bool preferRowSplit = false)
    {
        if (maxDegreeOfParallelism < 2)
        {
            return 1;
        }

        double flops = 2.0 * plan.M * plan.N * plan.K;
        if (!context.WouldSplit(flops))
        {
            return 1;
        }

        int parts = (int)Math.Min(context.PartsFor(maxDegreeOfParallelism), flops / PartMinFlops);
        if (parts < 2)
        {
            // A context may split products smaller than two parts' worth (ParallelThresholdFlops can be set that low).
            return 1;
        }

        if (preferRowSplit && plan.RowTiles >= parts)
        {
            plan.SplitRows = true;
        }
        else if (plan.Panels >= parts && (plan.Panels % parts == 0 || plan.Panels >= 3 * parts))
        {
            plan.SplitRows = false;
        }
        else if (plan.RowTiles >= parts)
        {
            plan.SplitRows = true;
        }
        else
        {
            // Fewer tiles or panels than threads: one part per tile (or panel), never more parts than threads.
            plan.SplitRows = plan.RowTiles > plan.Panels;
            parts = Math.Min(parts, Math.Max(plan.RowTiles, plan.Panels));
        }

        return parts;
    }

    // The operands stay pinned while the workers run: the caller waits for every part before it leaves the fixed
    // block, so the addresses the workers use cannot be moved by a collection.
    private static unsafe bool RunParallel(ComputeContext context, in GemmPlan plan, int parts, ref T a, ref T b, ref T c, ref T bias)
    {
        WorkerPool pool = context.Pool;
        if (!pool.TryAcquire())
        {
            return false;
        }

        fixed (T* pa = &a)
        fixed (T* pb = &b)
        fixed (T* pc = &c)
        fixed (T* pbias = &bias)
        {
            GemmJob job = context.GemmJob;
            job.Publish(in plan, parts, &RunPartAt, pa, pb, pc, pbias);
            try
            {
                pool.Start(job, parts);
                RunPart(in plan, ref a, ref b, ref c, ref bias, 0, parts);
                int part;
                while ((part = pool.ClaimNext()) > 0)
                {
                    RunPart(in plan, ref a, ref b, ref c, ref bias, part, parts);
                }
            }
            finally
            {
                pool.End();
            }
        }

        return true;
    }

    // RunPart on the pinned addresses a GemmJob publishes.
    private static unsafe void RunPartAt(in GemmPlan plan, nint a, nint b, nint c, nint bias, int part, int parts) =>
        RunPart(in plan,
            ref Unsafe.AsRef<T>((void*)a), ref Unsafe.AsRef<T>((void*)b), ref Unsafe.AsRef<T>((void*)c), ref Unsafe.AsRef<T>((void*)bias),
            part, parts);

    // Computes the tiles of C that belong to `part` of `parts`.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RunPart(in GemmPlan plan, ref T a, ref T b, ref T c, ref T bias, int part, int parts)
    {
        int firstPanel = 0, endPanel = plan.Panels, firstTile = 0, endTile = plan.RowTiles;
        if (parts > 1)
        {
            if (plan.SplitRows)
            {
                firstTile = (int)((long)plan.RowTiles * part / parts);
                endTile = (int)((long)plan.RowTiles * (part + 1) / parts);
            }
            else
            {
                firstPanel = (int)((long)plan.Panels * part / parts);
                endPanel = (int)((long)plan.Panels * (part + 1) / parts);
            }
        }

        if (firstPanel >= endPanel || firstTile >= endTile)
        {
            return;
        }

        if (typeof(TVec) == typeof(Vector512<T>) && plan.Columns)
        {
            GemmColumns<T>.RunPart(in plan, ref a, ref b, ref c, ref bias, firstTile, endTile);
            return;
        }

        int lanes = TOps.Lanes;
        int wide = 2 * lanes;
        int mr = plan.TileRows;
        ref T panel = ref GemmBuffers<T>.GetReference(KcMax * wide);
        int firstRow = firstTile * mr;
        int endRow = Math.Min(plan.M, endTile * mr);
        int n = plan.N;
        int k = plan.K;
        nint ldb = plan.Ldb;
        nint ldc = plan.Ldc;
        nint aRow = plan.ARow;
        nint aStep = plan.AStep;
        ref T packedA = ref plan.PackA ? ref GemmBuffers<T>.GetPackedAReference((endTile - firstTile) * mr * plan.Kc) : ref Unsafe.NullRef<T>();
        for (int kk = 0; kk < k; kk += plan.Kc)
        {
            int kc = Math.Min(plan.Kc, k - kk);
            bool loadC = kk > 0 || plan.Accumulate;
            bool addBias = plan.HasBias && kk + kc == k;
            ref T aBlock = ref Unsafe.Add(ref a, kk * aStep);

            // Where the tile at row i finds its A: aBlock + (i − aFirst)·aTile, read with steps tileARow and tileAStep.
            nint tileARow = aRow, tileAStep = aStep, aTile = aRow;
            int aFirst = 0;
            if (plan.PackA)
            {
                // The part's rows of this K block, tile by tile: tile i's A starts at packedA + (i − firstRow)·kc.
                PackTransposedA(ref aBlock, aStep, firstRow, endRow, mr, kc, ref packedA);
                aBlock = ref packedA;
                aFirst = firstRow;
                aTile = kc;
                tileARow = 1;
                tileAStep = mr;
            }
            for (int jp = firstPanel; jp < endPanel; jp++)
            {
                int j0 = jp * wide;
                int width = n - j0 <= lanes ? lanes : wide;
                int cols = Math.Min(width, n - j0);
                scoped ref T bPanel = ref panel;
                nint bStep = width;
                if (plan.TransposeB)
                {
                    GemmPacking<TOps, TVec, T>.PackColumns(ref Unsafe.Add(ref b, (j0 * ldb) + kk), ldb, kc, cols, width, ref panel);
                }
                else if (plan.DirectB && cols == width)
                {
                    bPanel = ref Unsafe.Add(ref b, (kk * ldb) + j0);
                    bStep = ldb;
                }
                else
                {
                    GemmPacking<TOps, TVec, T>.PackRows(ref Unsafe.Add(ref b, (kk * ldb) + j0), ldb, kc, cols, width, ref panel);
                }

                ref T biasPanel = ref Unsafe.Add(ref bias, j0);
                for (int i = firstRow; i < endRow; i += mr)
                {
                    LinePrefetch.Drain();
                    Tile(
                        width == wide,
                        Math.Min(mr, endRow - i),
                        ref Unsafe.Add(ref aBlock, (i - aFirst) * aTile),
                        tileARow,
                        tileAStep,
                        ref bPanel,
                        bStep,
                        kc,
                        ref Unsafe.Add(ref c, (i * ldc) + j0),
                        ldc,
                        cols,
                        loadC,
                        ref biasPanel,
                        addBias);
                }
            }
        }
    }

    // Copies rows [firstRow, endRow) of op(A) = Aᵀ for one K block (A stored k×m at a stride of lda) tile by tile:
    // element (i, p) of the tile starting at row i0 goes to packed + (i0 − firstRow)·kc + p·mr + (i − i0), so that the
    // kernels read it with a row step of 1 and a k step of mr. The same values in the same order: the bits do not change.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposedA(ref T a, nint lda, int firstRow, int endRow, int mr, int kc, ref T packed)
    {
        for (int i0 = firstRow; i0 < endRow; i0 += mr)
        {
            int rows = Math.Min(mr, endRow - i0);
            ref T source = ref Unsafe.Add(ref a, i0);
            ref T target = ref Unsafe.Add(ref packed, (nint)(i0 - firstRow) * kc);
            if (rows * Unsafe.SizeOf<T>() == 32)
            {
                for (int p = 0; p < kc; p++)
                {
                    Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref source, p * lda))), ref Unsafe.As<T, byte>(ref Unsafe.Add(ref target, p * mr)));
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        Unsafe.Add(ref target, (p * mr) + r) = Unsafe.Add(ref source, (p * lda) + r);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(
        bool wide, int rows, ref T a, nint aRow, nint aStep, ref T b, nint bStep, int kc, ref T c, nint ldc, int cols, bool loadC, ref T bias, bool addBias)
    {
        if (wide)
        {
            switch (rows)
            {
                case 8: GemmKernels<TOps, TVec, T>.Wide<GemmRows8>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 7: GemmKernels<TOps, TVec, T>.Wide<GemmRows7>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 6: GemmKernels<TOps, TVec, T>.Wide<GemmRows6>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 5: GemmKernels<TOps, TVec, T>.Wide<GemmRows5>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 4: GemmKernels<TOps, TVec, T>.Wide<GemmRows4>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 3: GemmKernels<TOps, TVec, T>.Wide<GemmRows3>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 2: GemmKernels<TOps, TVec, T>.Wide<GemmRows2>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                default: GemmKernels<TOps, TVec, T>.Wide<GemmRows1>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
            }
        }
        else
        {
            switch (rows)
            {
                case 8: GemmKernels<TOps, TVec, T>.Narrow<GemmRows8>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 7: GemmKernels<TOps, TVec, T>.Narrow<GemmRows7>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 6: GemmKernels<TOps, TVec, T>.Narrow<GemmRows6>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 5: GemmKernels<TOps, TVec, T>.Narrow<GemmRows5>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 4: GemmKernels<TOps, TVec, T>.Narrow<GemmRows4>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 3: GemmKernels<TOps, TVec, T>.Narrow<GemmRows3>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                case 2: GemmKernels<TOps, TVec, T>.Narrow<GemmRows2>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
                default: GemmKernels<TOps, TVec, T>.Narrow<GemmRows1>(ref a, aRow, aStep, ref b, bStep, kc, ref c, ldc, cols, loadC, ref bias, addBias); break;
            }
        }
    }

    // The k = 0 product: C ← [C] [+ bias].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddBiasOnly(ref T c, nint ldc, int m, int n, bool accumulate, ref T bias, bool hasBias)
    {
        for (int i = 0; i < m; i++)
        {
            ref T cRow = ref Unsafe.Add(ref c, i * ldc);
            for (int j = 0; j < n; j++)
            {
                T value = accumulate ? Unsafe.Add(ref cRow, j) : T.Zero;
                if (hasBias)
                {
                    value += Unsafe.Add(ref bias, j);
                }

                Unsafe.Add(ref cRow, j) = value;
            }
        }
    }
}

// The parallel share of a GEMM call, handed to the workers: one per ComputeContext, written only by the holder of
// its pool. Its spans cannot leave the caller's stack, so the caller pins the operands (RunParallel's fixed block, which
// outlives every part) and publishes their addresses, with the instantiation of RunPart that reads them (a function
// pointer: one job object serves every element type and vector width).
internal sealed unsafe class GemmJob : ParallelWork
{
    private GemmPlan _plan;
    private int _parts;
    private delegate*<in GemmPlan, nint, nint, nint, nint, int, int, void> _runPart;
    private nint _a;
    private nint _b;
    private nint _c;
    private nint _bias;

    // Records the plan, the part count, the kernel and the pinned operands' addresses.
    internal void Publish(in GemmPlan plan, int parts, delegate*<in GemmPlan, nint, nint, nint, nint, int, int, void> runPart, void* a, void* b, void* c, void* bias)
    {
        _plan = plan;
        _parts = parts;
        _runPart = runPart;
        _a = (nint)a;
        _b = (nint)b;
        _c = (nint)c;
        _bias = (nint)bias;
    }

    internal override bool Execute(int part)
    {
        _runPart(in _plan, _a, _b, _c, _bias, part, _parts);
        return true;
    }
}
