package bus

// node is an intrusive list node (the kernel's struct list_head / klist_node
// embedded in device_private): membership tests and removal are O(1).
type node[T any] struct {
	prev, next *node[T]
	v          T
}

func (n *node[T]) linked() bool { return n.next != nil }

// unlink removes n from whatever list it is on (list_del_init).
func (n *node[T]) unlink() {
	if n.next == nil {
		return
	}
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
}

// dlist is a circular doubly linked list with a sentinel head.
type dlist[T any] struct{ head node[T] }

func (l *dlist[T]) lazyInit() {
	if l.head.next == nil {
		l.head.next, l.head.prev = &l.head, &l.head
	}
}

func (l *dlist[T]) empty() bool { return l.head.next == nil || l.head.next == &l.head }

// pushBack is list_add_tail.
func (l *dlist[T]) pushBack(n *node[T]) {
	l.lazyInit()
	n.prev = l.head.prev
	n.next = &l.head
	l.head.prev.next = n
	l.head.prev = n
}

// front returns the first node or nil.
func (l *dlist[T]) front() *node[T] {
	if l.empty() {
		return nil
	}
	return l.head.next
}

// back returns the last node or nil.
func (l *dlist[T]) back() *node[T] {
	if l.empty() {
		return nil
	}
	return l.head.prev
}

// spliceTo moves every node of l to the tail of dst (list_splice_tail_init).
func (l *dlist[T]) spliceTo(dst *dlist[T]) {
	if l.empty() {
		return
	}
	dst.lazyInit()
	first, last := l.head.next, l.head.prev
	first.prev = dst.head.prev
	dst.head.prev.next = first
	last.next = &dst.head
	dst.head.prev = last
	l.head.next, l.head.prev = &l.head, &l.head
}

// values returns the list's values in order.
func (l *dlist[T]) values() []T {
	var out []T
	if l.empty() {
		return out
	}
	for n := l.head.next; n != &l.head; n = n.next {
		out = append(out, n.v)
	}
	return out
}
