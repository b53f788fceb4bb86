namespace FastCallbacks;

/// <summary>
/// Dispatch order: a stable sort by <see cref="Callback.Order"/> (ties keep insertion order, as fastai's
/// <c>sorted(key=order)</c>), then <see cref="Callback.RunBefore"/>/<see cref="Callback.RunAfter"/> constraints on
/// top: a topological sort that, among the callbacks free to go next, always picks the earliest by Order.
/// </summary>
internal static class CallbackOrder
{
    public static Callback[] Sort(IReadOnlyList<Callback> cbs)
    {
        var byOrder = cbs.Select((cb, i) => (cb, i)).OrderBy(p => p.cb.Order).ThenBy(p => p.i).Select(p => p.cb).ToArray();
        var n = byOrder.Length;
        if (!byOrder.Any(cb => cb.RunBefore.Count > 0 || cb.RunAfter.Count > 0)) return byOrder;

        // mustPrecede[a] lists the callbacks that a has to come before.
        var mustPrecede = new List<int>[n];
        var pending = new int[n];
        for (var a = 0; a < n; a++) mustPrecede[a] = [];
        for (var a = 0; a < n; a++)
        {
            for (var b = 0; b < n; b++)
            {
                if (a == b) continue;
                var aBeforeB = byOrder[a].RunBefore.Any(t => t.IsInstanceOfType(byOrder[b]))
                    || byOrder[b].RunAfter.Any(t => t.IsInstanceOfType(byOrder[a]));
                if (aBeforeB)
                {
                    mustPrecede[a].Add(b);
                    pending[b]++;
                }
            }
        }

        var result = new Callback[n];
        var placed = new bool[n];
        for (var k = 0; k < n; k++)
        {
            var next = -1;
            for (var c = 0; c < n && next < 0; c++)
                if (!placed[c] && pending[c] == 0) next = c;
            if (next < 0) throw CycleError(byOrder, placed);
            placed[next] = true;
            result[k] = byOrder[next];
            foreach (var b in mustPrecede[next]) pending[b]--;
        }
        return result;
    }

    private static InvalidOperationException CycleError(Callback[] cbs, bool[] placed)
    {
        var stuck = cbs.Where((_, i) => !placed[i]).Select(cb => $"`{cb}`");
        return new InvalidOperationException(
            $"The RunBefore/RunAfter declarations of {string.Join(", ", stuck)} form a cycle, so no order satisfies them all. " +
            "Remove one of the declarations (or express the order with Order).");
    }
}
