using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using FastCallbacks.Generators.Emitting;
using FastCallbacks.Generators.Helpers;
using FastCallbacks.Generators.Models;

namespace FastCallbacks.Generators;

/// <summary>
/// Groups the parse results per class so each class gets exactly one generated file: its handlers from the
/// <c>[On]</c> pipeline plus, for forwarding-only classes, the model from the forwarding pipeline.
/// </summary>
internal static class CallbackModelMerger
{
    public static ImmutableArray<CallbackClassModel> Merge(
        ImmutableArray<HandlerSite?> handlerSites,
        ImmutableArray<CallbackTypeModel?> forwardingCallbacks)
    {
        // Keyed by hint name: it identifies the class, and two files may never share one.
        var types = new Dictionary<string, CallbackTypeModel>(StringComparer.Ordinal);
        var handlers = new Dictionary<string, List<HandlerModel>>(StringComparer.Ordinal);

        foreach (var site in handlerSites)
        {
            if (site is null) continue;
            var list = Add(site.Type);
            // A partial method with [On] on both parts is matched twice.
            if (!list.Any(h => h.MethodName == site.Handler.MethodName && h.TakesEvent == site.Handler.TakesEvent))
            {
                list.Add(site.Handler);
            }
        }
        foreach (var type in forwardingCallbacks)
        {
            if (type is not null) Add(type);
        }

        return types.Keys
            .OrderBy(hintName => hintName, StringComparer.Ordinal)
            .Select(hintName => new CallbackClassModel(
                types[hintName],
                handlers[hintName].OrderBy(h => h.Order).ToEquatableArray()))
            .Where(CallbackSourceWriter.HasOutput)
            .ToImmutableArray();

        List<HandlerModel> Add(CallbackTypeModel type)
        {
            if (!handlers.TryGetValue(type.HintName, out var list))
            {
                types.Add(type.HintName, type);
                handlers.Add(type.HintName, list = new List<HandlerModel>());
            }
            return list;
        }
    }
}
