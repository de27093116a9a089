using WsiSegment.Processor.Commands;

namespace WsiSegment.Tests.Processor;

/// <summary>Processor wires the libraries; tensors stay behind Model's API (engine, runtime, benchmark inputs).</summary>
public class ProcessorDependencyTests
{
    [Fact]
    public void Processor_does_not_reference_TorchSharp_directly()
    {
        var references = typeof(PredictCommand).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.Contains("WsiSegment.Model", references);
        Assert.DoesNotContain(references, name => name!.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase));
    }
}
