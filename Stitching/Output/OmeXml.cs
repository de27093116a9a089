using System.Globalization;
using System.Xml.Linq;
using WsiSegment.Core.Classes;

namespace WsiSegment.Stitching.Output;

/// <summary>The OME-XML that tells Bio-Formats/QuPath what a single-channel uint8 label image is and its pixel size.</summary>
public static class OmeXml
{
    public static readonly XNamespace Ns = "http://www.openmicroscopy.org/Schemas/OME/2016-06";

    public static string ForLabels(int width, int height, double mppX, double mppY, string name, ClassTable? classes = null)
    {
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var xsi = XNamespace.Get("http://www.w3.org/2001/XMLSchema-instance");
        var image = new XElement(Ns + "Image", new XAttribute("ID", "Image:0"), new XAttribute("Name", name),
            new XElement(Ns + "Pixels",
                new XAttribute("ID", "Pixels:0"), new XAttribute("DimensionOrder", "XYCZT"), new XAttribute("Type", "uint8"),
                new XAttribute("SizeX", width), new XAttribute("SizeY", height),
                new XAttribute("SizeC", 1), new XAttribute("SizeZ", 1), new XAttribute("SizeT", 1),
                new XAttribute("PhysicalSizeX", F(mppX)), new XAttribute("PhysicalSizeXUnit", "µm"),
                new XAttribute("PhysicalSizeY", F(mppY)), new XAttribute("PhysicalSizeYUnit", "µm"),
                new XAttribute("BigEndian", "false"), new XAttribute("Interleaved", "false"),
                new XElement(Ns + "Channel", new XAttribute("ID", "Channel:0:0"), new XAttribute("Name", "labels"), new XAttribute("SamplesPerPixel", 1)),
                new XElement(Ns + "TiffData", new XAttribute("IFD", 0), new XAttribute("PlaneCount", 1))));
        var ome = new XElement(Ns + "OME",
            new XAttribute(XNamespace.Xmlns + "xsi", xsi),
            new XAttribute(xsi + "schemaLocation", "http://www.openmicroscopy.org/Schemas/OME/2016-06 http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd"),
            new XAttribute("Creator", "WsiSegment"),
            image);
        if (classes is not null)
        {
            // Class names travel as a key-value annotation (label value → name) linked to the image.
            image.Add(new XElement(Ns + "AnnotationRef", new XAttribute("ID", "Annotation:Classes")));
            ome.Add(new XElement(Ns + "StructuredAnnotations",
                new XElement(Ns + "MapAnnotation", new XAttribute("ID", "Annotation:Classes"), new XAttribute("Namespace", "wsisegment.classes"),
                    new XElement(Ns + "Value", classes.Select((c, i) =>
                        new XElement(Ns + "M", new XAttribute("K", i.ToString(CultureInfo.InvariantCulture)), c.Name))))));
        }
        return new XDocument(new XDeclaration("1.0", "UTF-8", null), ome).Declaration + "\n" + ome.ToString(SaveOptions.DisableFormatting);
    }
}
