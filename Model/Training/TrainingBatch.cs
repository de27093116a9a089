namespace WsiSegment.Model.Training;

/// <summary>
/// One batch ready for the network: normalised CHW inputs for <see cref="Count"/> patches of Size×Size, and
/// their labels at LabelSize×LabelSize (Size/8 for ESPNet-C, Size for ESPNet). Plain arrays: tensors are made
/// on the training thread.
/// </summary>
public sealed record TrainingBatch(float[] Inputs, byte[] Labels, int Count, int Size, int LabelSize);
