namespace FastCallbacks;

/// <summary>
/// Dispatch order: a stable sort by <see cref="Callback.Order"/> (ties keep insertion order, as fastai's
/// <c>sorted(key=order)</c>), then <see cref="Callback.RunBefore"/>/<see cref="Callback.RunAfter"/> on top: walking
/// that list, each callback is placed after the callbacks it must follow, which are pulled forward just ahead of
/// it. A callback with no constraints keeps its place relative to the others.
/// </summary>
internal static class CallbackOrder
{
    public static Callback[] Sort(IReadOnlyList<Callback> cbs)
    {
        var byOrder = StableSortByOrder(cbs);
        var n = byOrder.Length;
        if (!byOrder.Any(cb => cb.RunBefore.Count > 0 || cb.RunAfter.Count > 0)) return byOrder;

        // predecessors[b] lists, in Order, the callbacks that must run before b.
        var predecessors = new List<int>[n];
        for (var b = 0; b < n; b++)
        {
            predecessors[b] = [];
            for (var a = 0; a < n; a++)
            {
                if (a != b && (byOrder[a].RunBefore.Any(t => t.IsInstanceOfType(byOrder[b]))
                    || byOrder[b].RunAfter.Any(t => t.IsInstanceOfType(byOrder[a]))))
                    predecessors[b].Add(a);
            }
        }

        var result = new List<Callback>(n);
        var state = new byte[n]; // 0 unvisited, 1 on the current path, 2 placed
        var path = new Stack<int>();
        for (var c = 0; c < n; c++) Place(c);
        return [.. result];

        void Place(int c)
        {
            if (state[c] == 2) return;
            if (state[c] == 1) throw CycleError(path.Reverse().SkipWhile(i => i != c).Select(i => byOrder[i]));
            state[c] = 1;
            path.Push(c);
            foreach (var p in predecessors[c]) Place(p);
            path.Pop();
            state[c] = 2;
            result.Add(byOrder[c]);
        }
    }

    /// <summary>
    /// A stable insertion sort by <see cref="Callback.Order"/> (lists are short). Plain loops rather than LINQ's
    /// OrderBy over (callback, index) tuples: that is a value-type generic instantiation no ReadyToRun image holds,
    /// so a fresh process would JIT about seventy framework methods the first time callbacks are added.
    /// </summary>
    private static Callback[] StableSortByOrder(IReadOnlyList<Callback> cbs)
    {
        var sorted = new Callback[cbs.Count];
        for (var k = 0; k < sorted.Length; k++)
        {
            var cb = cbs[k];
            var order = cb.Order;
            var j = k;
            for (; j > 0 && sorted[j - 1].Order > order; j--) sorted[j] = sorted[j - 1];
            sorted[j] = cb;
        }
        return sorted;
    }

    private static InvalidOperationException CycleError(IEnumerable<Callback> cycle) => new(
        $"The RunBefore/RunAfter declarations of {string.Join(", ", cycle.Select(cb => $"`{cb}`"))} form a cycle, so no order satisfies them all. " +
        "Remove one of the declarations (or express the order with Order).");
}
