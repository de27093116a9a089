using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Processor.Web;

/// <summary>
/// The slides and masks currently open for tile reads, at most <c>capacity</c> of them: opening a slide per tile
/// would re-parse its headers each time, keeping every slide ever browsed open would hold their handles forever.
/// A handle evicted while a request still reads from it is closed when that request lets go.
/// </summary>
public sealed class OpenSlides : IDisposable
{
    private readonly int _capacity;
    private readonly object _gate = new();
    private readonly LinkedList<Handle> _lru = new();
    private readonly Dictionary<string, LinkedListNode<Handle>> _byKey = new();

    public OpenSlides(int capacity) => _capacity = capacity;

    /// <summary>A lease on the open files of one slide; dispose it when the tile is made.</summary>
    public Handle Acquire(SlideEntry entry)
    {
        string key = entry.Id + "/" + entry.Version;
        lock (_gate)
        {
            if (_byKey.TryGetValue(key, out var node)) _lru.Remove(node);
            else node = new LinkedListNode<Handle>(new Handle(entry));
            _lru.AddFirst(node);
            _byKey[key] = node;
            node.Value.AddRef();
            while (_lru.Count > _capacity)
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _byKey.Remove(last.Value.Key);
                last.Value.Release(); // the cache's own reference
            }
            return node.Value;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var h in _lru) h.Release();
            _lru.Clear();
            _byKey.Clear();
        }
    }

    /// <summary>One slide's open files, reference-counted (the cache holds one reference, each request another).</summary>
    public sealed class Handle : IDisposable
    {
        private readonly SlideEntry _entry;
        private readonly object _gate = new();
        private int _refs = 1;
        private SlideSource? _slide;
        private Image[]? _maskPages;

        internal Handle(SlideEntry entry) => _entry = entry;

        internal string Key => _entry.Id + "/" + _entry.Version;

        internal void AddRef() { lock (_gate) _refs++; }

        /// <summary>The source slide, opened on first use; null when the report's slide is not in a served folder.</summary>
        public SlideSource? Slide
        {
            get
            {
                if (_entry.SlidePath is null) return null;
                lock (_gate) return _slide ??= SlideSource.Open(_entry.SlidePath);
            }
        }

        /// <summary>The label mask's pages (page p is shrunk 2^p by mode), opened on first use.</summary>
        public IReadOnlyList<Image> MaskPages
        {
            get
            {
                if (_entry.MaskPath is null) return [];
                lock (_gate) return _maskPages ??= OpenPages(_entry.MaskPath);
            }
        }

        private static Image[] OpenPages(string path)
        {
            VipsSetup.EnsureInitialised();
            try
            {
                var first = Image.Tiffload(path, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
                int n = first.Contains("n-pages") ? Convert.ToInt32(first.Get("n-pages")) : 1;
                var pages = new List<Image> { first };
                for (int p = 1; p < n; p++)
                    pages.Add(Image.Tiffload(path, page: p, access: Enums.Access.Random, failOn: Enums.FailOn.Error));
                return pages.ToArray();
            }
            catch (VipsException e)
            {
                throw new CorruptSlideException(path, "cannot open the mask: " + VipsSetup.Clean(e.Message), e);
            }
        }

        internal void Release()
        {
            lock (_gate)
            {
                if (--_refs > 0) return;
                _slide?.Dispose();
                foreach (var p in _maskPages ?? []) p.Dispose();
                _slide = null;
                _maskPages = null;
            }
        }

        public void Dispose() => Release();
    }
}
