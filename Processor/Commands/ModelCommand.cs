using System.CommandLine;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment model …`: bring weights in from PyTorch, look inside a checkpoint, export weights.</summary>
public static class ModelCommand
{
    public static Command Create() => new("model", "Import, inspect and export ESPNet checkpoints.")
    {
        ModelImportCommand.Create(),
        ModelInfoCommand.Create(),
        ModelExportCommand.Create(),
    };
}
