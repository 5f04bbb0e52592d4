package of

import (
	"strings"
	"sync"

	"github.com/drvsim/drvsim/device"
)

// NodeFlags are the OF_* flags of a node (include/linux/of.h).
type NodeFlags uint32

// Node flags.
const (
	// FlagDynamic is OF_DYNAMIC: the node was made at run time (by an
	// overlay) and is reference counted.
	FlagDynamic NodeFlags = 1 << iota
	// FlagDetached is OF_DETACHED: the node is not in the tree.
	FlagDetached
	// FlagPopulated is OF_POPULATED: a device was made for the node.
	FlagPopulated
	// FlagPopulatedBus is OF_POPULATED_BUS: devices were made for the
	// node's children (the node is a bus that was populated).
	FlagPopulatedBus
	// FlagOverlay is OF_OVERLAY: the node came from an overlay.
	FlagOverlay
)

// String renders the flags as "POPULATED|POPULATED_BUS", or "0".
func (f NodeFlags) String() string {
	var parts []string
	for i, n := range []string{"DYNAMIC", "DETACHED", "POPULATED", "POPULATED_BUS", "OVERLAY"} {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// Property is a property of a live node (struct property). Its value never
// changes: an overlay that updates a property replaces it.
type Property struct {
	// Name is the property's name.
	Name string
	// Value is the value as in a blob (big-endian cells, NUL-terminated
	// strings); empty for a boolean property.
	Value []byte
}

// Node is a node of the live tree (struct device_node), with its firmware
// handle (fwnode) for the driver core. A node read from the tree stays
// valid while the tree holds it; a node an overlay added is reference
// counted (Get, Put) and the overlay's removal reports a node still held.
type Node struct {
	tree   *Tree
	name   string // with the unit address; "" for the root
	parent *Node
	fw     *device.Fwnode

	// guarded by tree.mu
	children []*Node
	props    []*Property
	phandle  uint32
	flags    NodeFlags
	labels   []string
	refs     int
}

// Tree returns the tree the node belongs to.
func (n *Node) Tree() *Tree { return n.tree }

// Name returns the node's name with its unit address, "i2c@1000"
// (kbasename of the full name, %pOFP's last part); "" for the root.
func (n *Node) Name() string { return n.name }

// BaseName returns the name without the unit address, "i2c" (%pOFn).
func (n *Node) BaseName() string {
	base, _, _ := strings.Cut(n.name, "@")
	return base
}

// Parent returns the parent node, nil for the root.
func (n *Node) Parent() *Node { return n.parent }

// Fwnode returns the node's firmware handle (&np->fwnode).
func (n *Node) Fwnode() *device.Fwnode { return n.fw }

// Path returns the full path (%pOF), "/" for the root.
func (n *Node) Path() string {
	if n.parent == nil {
		return "/"
	}
	if n.parent.parent == nil {
		return "/" + n.name
	}
	return n.parent.Path() + "/" + n.name
}

// String returns the node's path.
func (n *Node) String() string { return n.Path() }

// Children returns the node's children in tree order.
func (n *Node) Children() []*Node {
	n.tree.mu.Lock()
	defer n.tree.mu.Unlock()
	return append([]*Node(nil), n.children...)
}

// Child returns the child named name (with its unit address), or nil
// (of_get_child_by_name compares the name without it; this is exact).
func (n *Node) Child(name string) *Node {
	n.tree.mu.Lock()
	defer n.tree.mu.Unlock()
	return n.childLocked(name)
}

func (n *Node) childLocked(name string) *Node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Properties returns the node's properties in order.
func (n *Node) Properties() []*Property {
	n.tree.mu.Lock()
	defer n.tree.mu.Unlock()
	return append([]*Property(nil), n.props...)
}

// Property returns the property named name, or nil (of_find_property).
func (n *Node) Property(name string) *Property {
	n.tree.mu.Lock()
	defer n.tree.mu.Unlock()
	return n.propLocked(name)
}

func (n *Node) propLocked(name string) *Property {
	for _, p := range n.props {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Phandle returns the node's phandle, 0 for none.
func (n *Node) Phandle() uint32 {
	n.tree.mu.Lock()
	defer n.tree.mu.Unlock()
	return n.phandle
}

// Labels returns the labels the source gave the node (its __symbols__).
func (n *Node) Labels() []string {
	n.tree.mu.Lock()
	defer n.tree.mu.Unlock()
	return append([]string(nil), n.labels...)
}

// Flags returns the node's OF_* flags.
func (n *Node) Flags() NodeFlags {
	n.tree.mu.Lock()
	defer n.tree.mu.Unlock()
	return n.flags
}

// CheckFlag is of_node_check_flag.
func (n *Node) CheckFlag(f NodeFlags) bool { return n.Flags()&f != 0 }

// SetFlag is of_node_set_flag.
func (n *Node) SetFlag(f NodeFlags) {
	n.tree.mu.Lock()
	n.flags |= f
	n.tree.mu.Unlock()
}

// ClearFlag is of_node_clear_flag.
func (n *Node) ClearFlag(f NodeFlags) {
	n.tree.mu.Lock()
	n.flags &^= f
	n.tree.mu.Unlock()
}

// TestAndSetFlag is of_node_test_and_set_flag: it sets f and reports
// whether it was set.
func (n *Node) TestAndSetFlag(f NodeFlags) bool {
	n.tree.mu.Lock()
	defer n.tree.mu.Unlock()
	was := n.flags&f != 0
	n.flags |= f
	return was
}

// Get is of_node_get: a reference on a dynamic node (an overlay's), which
// must be dropped with Put. It returns n. On a node of the boot tree it
// counts too, harmlessly, as in the kernel.
func (n *Node) Get() *Node {
	if n == nil {
		return nil
	}
	n.tree.mu.Lock()
	n.refs++
	n.tree.mu.Unlock()
	return n
}

// Put is of_node_put. Dropping a reference the node does not have is
// reported (trace.Warn), as the kernel's kobject_put warns.
func (n *Node) Put() {
	if n == nil {
		return
	}
	n.tree.mu.Lock()
	under := n.refs <= 0
	if !under {
		n.refs--
	}
	n.tree.mu.Unlock()
	if under {
		n.tree.warn(n, "of_node_put", "reference count underflow")
	}
}

// Refs returns the node's reference count (kref_read).
func (n *Node) Refs() int {
	n.tree.mu.Lock()
	defer n.tree.mu.Unlock()
	return n.refs
}

// The node is its own firmware description (fwnode_operations of
// of_fwnode_ops).
type fwOps struct{ n *Node }

func (o fwOps) FwnodePath() string { return o.n.Path() }

func (o fwOps) FwnodeParent() *device.Fwnode {
	if o.n.parent == nil {
		return nil
	}
	return o.n.parent.fw
}

func (o fwOps) FwnodeChildren() []*device.Fwnode {
	var out []*device.Fwnode
	for _, c := range o.n.Children() {
		if c.Available() {
			out = append(out, c.fw)
		}
	}
	return out
}

func (o fwOps) FwnodeAvailable() bool { return o.n.Available() }

func (o fwOps) FwnodeAddLinks(add func(sup *device.Fwnode)) { o.n.addLinks(add) }

// NodeOfFwnode returns the device-tree node behind a firmware handle
// (to_of_node), or nil for a handle of something else.
func NodeOfFwnode(f *device.Fwnode) *Node {
	if f == nil {
		return nil
	}
	o, ok := f.Ops().(fwOps)
	if !ok {
		return nil
	}
	return o.n
}

// NodeOf returns dev's device-tree node (dev->of_node), or nil.
func NodeOf(dev *device.Device) *Node {
	if dev == nil {
		return nil
	}
	return NodeOfFwnode(dev.Fwnode())
}

// newNode makes a detached node of t.
func (t *Tree) newNode(name string, parent *Node) *Node {
	n := &Node{tree: t, name: name, parent: parent}
	n.fw = device.NewFwnode(fwOps{n})
	return n
}

// treeMu is the lock type of Tree.mu (devtree_lock).
type treeMu = sync.Mutex
