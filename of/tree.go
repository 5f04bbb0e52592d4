package of

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/of/dtc"
	"github.com/drvsim/drvsim/trace"
)

// Tree is a machine's live device tree (of_root and what drivers/of keeps
// beside it: the phandle and symbol tables, the applied overlays, the
// reconfiguration notifier chain). Load makes it; TreeOf finds it.
type Tree struct {
	e    *env.Env
	file string
	root *Node

	// ofMutex is of_mutex: overlays apply and revert under it.
	ofMutex *kernel.Mutex

	mu        treeMu // devtree_lock: the nodes' fields and the tables
	phandles  map[uint32]*Node
	symbols   map[string]*Node // __symbols__
	overlays  []*Overlay       // applied, oldest first
	nextOvID  int
	notifiers []notifier
	nextNotif int
}

// treeKey is the env.Env.Local key of a machine's tree.
type treeKey struct{}

func slot(e *env.Env) *atomic.Pointer[Tree] {
	return e.Local(treeKey{}, func() any { return new(atomic.Pointer[Tree]) }).(*atomic.Pointer[Tree])
}

// TreeOf returns the device tree of the machine h belongs to, or nil when
// none was loaded.
func TreeOf(h env.Host) *Tree {
	e := env.Of(h)
	if h == nil || e == nil {
		return nil
	}
	return slot(e).Load()
}

// Load reads the device-tree source src (named file in messages and the
// trace) and makes it the machine's live tree: what the bootloader hands
// the kernel and unflatten_device_tree turns into of_root. The machine is
// h's. A source the parser refuses gives its *dtc.Error (ErrInvalid, with
// the line and column); an overlay (/plugin/) is refused with ErrInvalid,
// and a second tree with ErrBusy. Load makes no device: that is
// of_platform_populate (package of/ofplatform).
func Load(h env.Host, file string, src []byte) (*Tree, error) {
	e := env.Of(h)
	parsed, err := dtc.Parse(file, src)
	if err != nil {
		return nil, err
	}
	if parsed.Plugin {
		return nil, fmt.Errorf("unflatten_device_tree %s: an overlay (/plugin/), not a tree: apply it with ApplyOverlay: %w", file, ErrInvalid)
	}
	t := &Tree{e: e, file: file, phandles: map[uint32]*Node{}, symbols: map[string]*Node{},
		ofMutex: kernel.NewMutex(e, "of_mutex")}
	t.root = t.build(parsed.Root, nil, 0)
	n := 0
	t.walk(t.root, func(x *Node) { n++ })
	if !slot(e).CompareAndSwap(nil, t) {
		return nil, fmt.Errorf("unflatten_device_tree %s: the machine has a device tree already: %w", file, ErrBusy)
	}
	t.emit("", "unflatten_device_tree", fmt.Sprintf("%s: %d nodes", file, n))
	return t, nil
}

// build copies a parsed node and its subtree into t as boot nodes (or,
// with flags, as an overlay's), registering phandles and labels.
func (t *Tree) build(src *dtc.Node, parent *Node, flags NodeFlags) *Node {
	n := t.newNode(src.Name, parent)
	n.flags = flags
	n.phandle = src.Phandle
	n.labels = append([]string(nil), src.Labels...)
	for _, p := range src.Props {
		n.props = append(n.props, &Property{Name: p.Name, Value: p.Value})
	}
	if n.phandle != 0 {
		t.phandles[n.phandle] = n
	}
	for _, l := range n.labels {
		t.symbols[l] = n
	}
	for _, c := range src.Children {
		n.children = append(n.children, t.build(c, n, flags))
	}
	return n
}

// Env returns the environment of the tree's machine; it makes a Tree an
// env.Host.
func (t *Tree) Env() *env.Env { return t.e }

// File returns the name the tree was loaded from.
func (t *Tree) File() string { return t.file }

// Root returns the root node (of_root).
func (t *Tree) Root() *Node { return t.root }

// FindByPath is of_find_node_by_path: the node at a full path, or nil.
func (t *Tree) FindByPath(path string) *Node {
	if path == "" || path[0] != '/' {
		return nil
	}
	n := t.root
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if part == "" {
			continue
		}
		if n = n.Child(part); n == nil {
			return nil
		}
	}
	return n
}

// FindByPhandle is of_find_node_by_phandle, or nil.
func (t *Tree) FindByPhandle(ph uint32) *Node {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.phandles[ph]
}

// FindByLabel returns the node a label names (the /__symbols__ entry), or
// nil.
func (t *Tree) FindByLabel(label string) *Node {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.symbols[label]
}

// walk calls fn on n and its subtree, parents first, in order.
func (t *Tree) walk(n *Node, fn func(*Node)) {
	fn(n)
	for _, c := range n.Children() {
		t.walk(c, fn)
	}
}

// AllNodes returns every node, parents first, in tree order
// (for_each_of_allnodes).
func (t *Tree) AllNodes() []*Node {
	var out []*Node
	t.walk(t.root, func(n *Node) { out = append(out, n) })
	return out
}

// maxPhandle returns the largest phandle in use.
func (t *Tree) maxPhandle() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var m uint32
	for ph := range t.phandles {
		m = max(m, ph)
	}
	return m
}

func (t *Tree) emit(dev, fn, msg string) {
	t.e.Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

func (t *Tree) warn(n *Node, fn, msg string) {
	t.e.Log().Emit(trace.Event{Kind: trace.Warn, Dev: n.Path(), Func: fn, Msg: msg})
}

// String renders the live tree as DTS (what dtc -I fs -O dts prints of
// /proc/device-tree), with each node's labels and, as a comment, its
// OF_* flags and the device made for it.
func (t *Tree) String() string {
	var b strings.Builder
	b.WriteString("/dts-v1/;\n\n")
	t.format(&b, t.root, 0)
	return b.String()
}

func (t *Tree) format(b *strings.Builder, n *Node, depth int) {
	ind := strings.Repeat("\t", depth)
	b.WriteString(ind)
	for _, l := range n.Labels() {
		b.WriteString(l + ": ")
	}
	if n.parent == nil {
		b.WriteString("/")
	} else {
		b.WriteString(n.name)
	}
	b.WriteString(" {")
	var notes []string
	if f := n.Flags() &^ FlagDynamic; f != 0 {
		notes = append(notes, f.String())
	}
	if d := n.fw.Device(); d != nil {
		notes = append(notes, "device "+d.Name())
	}
	if len(notes) > 0 {
		b.WriteString(" // " + strings.Join(notes, ", "))
	}
	b.WriteString("\n")
	props := n.Properties()
	for _, p := range props {
		b.WriteString(ind + "\t" + p.Name)
		if len(p.Value) > 0 {
			b.WriteString(" = " + dtc.FormatValue(p.Value, nil))
		}
		b.WriteString(";\n")
	}
	for i, c := range n.Children() {
		if i > 0 || len(props) > 0 {
			b.WriteString("\n")
		}
		t.format(b, c, depth+1)
	}
	b.WriteString(ind + "};\n")
}

// Overlays returns the applied overlays, oldest first.
func (t *Tree) Overlays() []*Overlay {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.overlays)
}
