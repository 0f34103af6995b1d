package keepalive

// deadlineHeap is a binary min-heap of entries keyed by entry.key, each entry
// knowing its index so that a changed key is fixed in O(log n). Written out rather
// than through container/heap to avoid an interface call per comparison.
type deadlineHeap []*entry

func (h *deadlineHeap) push(e *entry) {
	e.idx = int32(len(*h))
	*h = append(*h, e)
	h.up(int(e.idx))
}

// remove takes e out of the heap.
func (h *deadlineHeap) remove(e *entry) {
	i := int(e.idx)
	if i < 0 {
		return
	}
	old := *h
	last := len(old) - 1
	if i != last {
		old[i] = old[last]
		old[i].idx = int32(i)
	}
	old[last] = nil
	*h = old[:last]
	e.idx = -1
	if i != last {
		h.fix(i)
	}
}

// fix restores the heap after the key at index i changed.
func (h *deadlineHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h deadlineHeap) up(i int) {
	e := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if h[p].key <= e.key {
			break
		}
		h[i] = h[p]
		h[i].idx = int32(i)
		i = p
	}
	h[i] = e
	e.idx = int32(i)
}

// down sifts index i down and reports whether it moved.
func (h deadlineHeap) down(i0 int) bool {
	n := len(h)
	i := i0
	e := h[i]
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h[r].key < h[l].key {
			c = r
		}
		if e.key <= h[c].key {
			break
		}
		h[i] = h[c]
		h[i].idx = int32(i)
		i = c
	}
	h[i] = e
	e.idx = int32(i)
	return i != i0
}
