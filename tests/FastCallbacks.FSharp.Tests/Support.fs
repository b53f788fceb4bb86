/// NUnit from F#.
[<AutoOpen>]
module FastCallbacks.FSharp.Tests.Support

open NUnit.Framework

/// Is.EqualTo, with the overload F# cannot choose for collections and structs chosen: values, or collections item by item.
let equalTo (expected: obj) = Is.EqualTo(expected)
