using System.Reflection;
using System.Runtime.CompilerServices;

namespace Backprop.Tests.Reliability;

/// <summary>
/// The library keeps no process-wide mutable state: state belongs to an object someone owns (a network, a trainer, a
/// <see cref="ComputeContext"/>). Every static field of every type of the assembly (nested, private and generic ones
/// included) must be a <c>const</c>, <c>[ThreadStatic]</c>, or <c>readonly</c> of an immutable type; the few readonly
/// fields whose object is mutable are named below, each with the reason it is safe.
/// </summary>
public class StaticStateTests
{
    // "Type.field" → why a static readonly field of a mutable type is allowed.
    private static readonly Dictionary<string, string> AllowedMutableReadonly = new()
    {
        ["Backprop.ComputeContext._shared"] =
            "the default context: its threads and thresholds are fixed; its pool serves one job at a time, and a job that " +
            "finds it busy runs alone on its caller, with the same bits (ComputeContextTests)",
        ["Backprop.AdamKernel.SlotNames"] =
            "a table of two names, never written after initialisation; Optimizer copies it into a read-only list",
        ["Backprop.ModelRegistry.<BuiltIns>k__BackingField"] =
            "the registry of the built-in types: read-only (its Add… methods throw), filled once by its constructor",
        ["Backprop.Data.Decompression+VerifiedGzipStream._marker"] =
            "the bytes that end a verified gzip stream: made once by the static constructor, then only read",
        ["Backprop.Data.Decompression+VerifiedGzipStream._markerMember"] =
            "the gzip member that carries that marker: made once by the static constructor, then only read",
    };

    private static readonly HashSet<Type> ImmutableSystemTypes =
    [
        typeof(string), typeof(decimal), typeof(DateTime), typeof(DateTimeOffset), typeof(TimeSpan), typeof(Guid), typeof(Type),
        typeof(System.Globalization.CultureInfo), typeof(System.Text.Encoding), typeof(System.Text.UTF8Encoding),
    ];

    [Fact]
    public void The_library_holds_no_static_mutable_fields()
    {
        var problems = new List<string>();
        var allowedSeen = new HashSet<string>();
        foreach (Type type in typeof(Network<>).Assembly.GetTypes())
        {
            if (type.Name == "<PrivateImplementationDetails>")
            {
                // The compiler's blobs behind constant spans (ReadOnlySpan<double> x => [...]): read-only data in the image.
                continue;
            }

            foreach (FieldInfo field in type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                string name = $"{type.FullName}.{field.Name}";
                if (field.IsLiteral || field.IsDefined(typeof(ThreadStaticAttribute)))
                {
                    continue;
                }

                if (!field.IsInitOnly)
                {
                    // The C# compiler caches the delegate of each non-capturing lambda ("<>c" classes) and of each method
                    // group converted to a delegate ("<…>O__" classes) in a static field: written once, idempotently
                    // (two threads at worst create equal delegates).
                    if (IsCompilerDelegateCache(type, field))
                    {
                        continue;
                    }

                    problems.Add($"{name} ({field.FieldType.Name}) is static and not readonly");
                }
                else if (AllowedMutableReadonly.ContainsKey(name))
                {
                    allowedSeen.Add(name);
                }
                else if (!IsImmutable(field.FieldType, []))
                {
                    problems.Add($"{name} is static readonly, but its type {field.FieldType} can be changed");
                }
            }
        }

        string.Join(Environment.NewLine, problems).Should().BeEmpty("state belongs to an object someone owns; name a justified exception in AllowedMutableReadonly");
        allowedSeen.Should().BeEquivalentTo(AllowedMutableReadonly.Keys, "every allowed exception must still exist");
    }

    [Fact]
    public void The_check_finds_mutable_statics()
    {
        // The checker itself: it must flag what it is meant to flag.
        IsImmutable(typeof(int[]), []).Should().BeFalse();
        IsImmutable(typeof(List<int>), []).Should().BeFalse();
        IsImmutable(typeof(Lock), []).Should().BeFalse();
        IsImmutable(typeof(ComputeContext), []).Should().BeFalse();
        IsImmutable(typeof(Func<int>), []).Should().BeFalse();
        IsImmutable(typeof(Sigmoid), []).Should().BeTrue();
        IsImmutable(typeof(TimeSpan), []).Should().BeTrue();
        IsImmutable(typeof(MutableHolder), []).Should().BeFalse();
        typeof(MutableHolder).GetField(nameof(MutableHolder.Count))!.IsInitOnly.Should().BeFalse();
    }

    private static bool IsCompilerDelegateCache(Type type, FieldInfo field) =>
        type.IsDefined(typeof(CompilerGeneratedAttribute))
        && typeof(Delegate).IsAssignableFrom(field.FieldType)
        && (type.Name.StartsWith("<>c", StringComparison.Ordinal) || type.Name.StartsWith("<>O", StringComparison.Ordinal)
            || type.Name.Contains(">O__", StringComparison.Ordinal));

    // Immutable: a primitive, an enum, a pointer, a known immutable system type, or a sealed class or struct of this
    // assembly whose instance fields (its bases' included) are all readonly and immutable themselves.
    private static bool IsImmutable(Type type, HashSet<Type> visiting)
    {
        if (type.IsPrimitive || type.IsEnum || type.IsPointer || type.IsFunctionPointer || ImmutableSystemTypes.Contains(type))
        {
            return true;
        }

        if (Nullable.GetUnderlyingType(type) is Type underlying)
        {
            return IsImmutable(underlying, visiting);
        }

        if (type.IsArray || type.IsInterface || type.IsGenericParameter || typeof(Delegate).IsAssignableFrom(type)
            || type.Assembly != typeof(Network<>).Assembly || (!type.IsValueType && !type.IsSealed))
        {
            return false;
        }

        if (!visiting.Add(type))
        {
            return true;
        }

        for (Type? t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            if (t.Assembly != typeof(Network<>).Assembly)
            {
                return false;
            }

            foreach (FieldInfo field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (!field.IsInitOnly || !IsImmutable(field.FieldType, visiting))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private sealed class MutableHolder
    {
#pragma warning disable CS0649 // never assigned: only its metadata is inspected
        public int Count;
#pragma warning restore CS0649
    }
}
