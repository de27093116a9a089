using System.Text.Json;
using WsiSegment.Core.Classes;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;

namespace WsiSegment.Tests.Core;

public class ClassTableTests
{
    [Fact]
    public void The_cards_classes_are_a_json_array_and_the_writers_colour_table()
    {
        var card = ModelCard.Default(ModelArchitecture.EspNet, 8);
        using var json = JsonDocument.Parse(card.ToJson());
        var classes = json.RootElement.GetProperty("classes");
        Assert.Equal(JsonValueKind.Array, classes.ValueKind);
        Assert.Equal("benign epithelium", classes[1].GetProperty("name").GetString());
        Assert.Equal("#2CA02C", classes[1].GetProperty("colour").GetString());

        var lut = card.Classes.ColourTable();
        Assert.Equal(new byte[] { 0x2C, 0xA0, 0x2C }, lut[3..6]);
        Assert.Equal(new byte[3], lut[(3 * 8)..(3 * 9)]); // past the classes: black
        Assert.Equal("background", card.Classes[ClassTable.BackgroundId].Name);
    }

    [Fact]
    public void Bad_tables_are_named()
    {
        Assert.Throws<ArgumentException>(() => new ClassTable([]));
        Assert.Throws<ArgumentException>(() => new ClassTable(Enumerable.Range(0, 257).Select(i => new ClassInfo($"c{i}", "#000000"))));
        Assert.Contains("colour 'red'", new ClassTable([new ClassInfo("a", "#000000"), new ClassInfo("b", "red")]).Problem());
        Assert.Contains("class 1 has no name", new ClassTable([new ClassInfo("a", new Rgb(1, 2, 3)), new ClassInfo(" ", "#000000")]).Problem());
        Assert.Equal(new Rgb(1, 2, 3), new ClassInfo("a", new Rgb(1, 2, 3)).Color);
    }
}
