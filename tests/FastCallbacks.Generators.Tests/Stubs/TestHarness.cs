// Compiled into every in-memory test assembly beside the contract stub: lets the tests, which only see the
// loaded assembly through reflection, attach a learner, dispatch and read the order handlers ran in.
#nullable enable
using System.Collections.Generic;

namespace FastCallbacks.Testing
{
    public static class Harness
    {
        public static List<string> Calls { get; } = new();

        public static void Record(string call) => Calls.Add(call);

        public static void Dispatch(Callback callback, Event @event) => callback.DispatchUnchecked(@event);

        public static uint HandledEvents(Callback callback) => callback.HandledEvents.Mask;

        public static void Attach(Callback callback, Learner learner) => callback.Learn = learner;
    }
}
