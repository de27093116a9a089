namespace WsiSegment.Processor.Web;

/// <summary>Encoded tiles, least recently used first out, bounded by the bytes they hold (not by their count).</summary>
public sealed class TileCache
{
    private readonly long _capacity;
    private readonly object _gate = new();
    private readonly LinkedList<(string Key, byte[] Body)> _lru = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, byte[] Body)>> _byKey = new();
    private long _bytes;

    public TileCache(long capacityBytes) => _capacity = capacityBytes;

    public long Bytes { get { lock (_gate) return _bytes; } }

    public byte[]? Get(string key)
    {
        lock (_gate)
        {
            if (!_byKey.TryGetValue(key, out var node)) return null;
            _lru.Remove(node);
            _lru.AddFirst(node);
            return node.Value.Body;
        }
    }

    public void Put(string key, byte[] body)
    {
        if (body.Length > _capacity) return;
        lock (_gate)
        {
            if (_byKey.Remove(key, out var old)) { _lru.Remove(old); _bytes -= old.Value.Body.Length; }
            _byKey[key] = _lru.AddFirst((key, body));
            _bytes += body.Length;
            while (_bytes > _capacity && _lru.Last is { } last)
            {
                _lru.RemoveLast();
                _byKey.Remove(last.Value.Key);
                _bytes -= last.Value.Body.Length;
            }
        }
    }
}
