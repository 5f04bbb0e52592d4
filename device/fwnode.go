package device

import (
	"strings"
	"sync"
)

// FwnodeOps is what a firmware description answers about one of its nodes
// (struct fwnode_operations); package of implements it for device-tree
// nodes.
type FwnodeOps interface {
	// FwnodePath is the node's full name (%pfwf), e.g. "/soc/i2c@1000".
	FwnodePath() string
	// FwnodeParent is the parent node's handle, nil for the root
	// (fwnode_get_parent).
	FwnodeParent() *Fwnode
	// FwnodeChildren are the handles of the node's available children, in
	// order (fwnode_get_next_available_child_node).
	FwnodeChildren() []*Fwnode
	// FwnodeAvailable is fwnode_device_is_available.
	FwnodeAvailable() bool
	// FwnodeAddLinks is fwnode_operations.add_links: it calls add once per
	// supplier the node's properties name (of_fwnode_add_links), in
	// order.
	FwnodeAddLinks(add func(sup *Fwnode))
}

// FwnodeFlags are the FWNODE_FLAG_* flags of a firmware node.
type FwnodeFlags uint32

// Firmware node flags (include/linux/fwnode.h).
const (
	// FwnodeLinksAdded is FWNODE_FLAG_LINKS_ADDED: the node's properties
	// have been parsed for suppliers.
	FwnodeLinksAdded FwnodeFlags = 1 << iota
	// FwnodeNotDevice is FWNODE_FLAG_NOT_DEVICE: the node will not get a
	// device of its own; its consumers link to the nearest ancestor device.
	FwnodeNotDevice
	// FwnodeInitialized is FWNODE_FLAG_INITIALIZED: a driver initialized
	// the hardware without a device (fwnode_dev_initialized).
	FwnodeInitialized
	// FwnodeVisited is FWNODE_FLAG_VISITED, set while the cycle search
	// passes through the node.
	FwnodeVisited
)

// String renders the flags as "LINKS_ADDED|NOT_DEVICE", or "0".
func (f FwnodeFlags) String() string {
	var parts []string
	for i, n := range []string{"LINKS_ADDED", "NOT_DEVICE", "INITIALIZED", "VISITED"} {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// FwlinkFlags are the FWLINK_FLAG_* flags of a firmware-node link.
type FwlinkFlags uint8

// Firmware-node link flags.
const (
	// FwlinkCycle is FWLINK_FLAG_CYCLE: the link is part of a dependency
	// cycle; it does not hold the consumer's probe back.
	FwlinkCycle FwlinkFlags = 1 << iota
	// FwlinkIgnore is FWLINK_FLAG_IGNORE (post-init-providers): the link
	// never becomes a device link.
	FwlinkIgnore
)

// FwnodeLink is struct fwnode_link: the consumer node depends on the
// supplier node, known from the firmware before either has a device. The
// driver core turns it into a device link once both devices exist.
type FwnodeLink struct {
	Supplier *Fwnode
	Consumer *Fwnode
	Flags    FwlinkFlags
}

// Fwnode is struct fwnode_handle: a node of the firmware's description of
// the hardware (a device-tree node), as the driver core sees it: the device
// made for it, its flags, and its links to supplier and consumer nodes
// (fw_devlink). Package of embeds one in every node; the driver core
// changes it through FwnodeCore. All methods are safe for concurrent use.
type Fwnode struct {
	ops FwnodeOps

	mu        sync.Mutex
	dev       *Device
	flags     FwnodeFlags
	suppliers []*FwnodeLink
	consumers []*FwnodeLink
}

// NewFwnode returns the handle of a node described by ops (fwnode_init).
func NewFwnode(ops FwnodeOps) *Fwnode { return &Fwnode{ops: ops} }

// Ops returns what describes the node (fwnode->ops); package of's *Node.
func (f *Fwnode) Ops() FwnodeOps { return f.ops }

// String returns the node's path.
func (f *Fwnode) String() string {
	if f == nil || f.ops == nil {
		return "<none>"
	}
	return f.ops.FwnodePath()
}

// Device returns the device made for the node (fwnode->dev), or nil.
func (f *Fwnode) Device() *Device {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dev
}

// Flags returns the node's flags.
func (f *Fwnode) Flags() FwnodeFlags {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flags
}

// Suppliers returns the links on which the node is the consumer.
func (f *Fwnode) Suppliers() []*FwnodeLink {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*FwnodeLink(nil), f.suppliers...)
}

// Consumers returns the links on which the node is the supplier.
func (f *Fwnode) Consumers() []*FwnodeLink {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*FwnodeLink(nil), f.consumers...)
}

// FwnodeCore gives the driver core (package bus) and the firmware layer
// (package of) the parts of a Fwnode they write. Drivers must not use it.
type FwnodeCore struct{ f *Fwnode }

// Core returns the driver core's access to f.
func (f *Fwnode) Core() FwnodeCore { return FwnodeCore{f} }

// SetDevice sets fwnode->dev (device_add, device_del).
func (c FwnodeCore) SetDevice(d *Device) {
	c.f.mu.Lock()
	c.f.dev = d
	c.f.mu.Unlock()
}

// SetFlags sets flags.
func (c FwnodeCore) SetFlags(fl FwnodeFlags) {
	c.f.mu.Lock()
	c.f.flags |= fl
	c.f.mu.Unlock()
}

// ClearFlags clears flags.
func (c FwnodeCore) ClearFlags(fl FwnodeFlags) {
	c.f.mu.Lock()
	c.f.flags &^= fl
	c.f.mu.Unlock()
}

// TestAndSetFlags sets fl and reports whether all of them were set already.
func (c FwnodeCore) TestAndSetFlags(fl FwnodeFlags) bool {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	was := c.f.flags&fl == fl
	c.f.flags |= fl
	return was
}

// AddFwnodeLink is __fwnode_link_add: a link from consumer to supplier,
// unless one exists (then its flags gain fl); it reports whether it made
// one. For the driver core, which serializes the link operations. A nil
// node, or a node linked to itself, makes no link.
func AddFwnodeLink(con, sup *Fwnode, fl FwlinkFlags) (*FwnodeLink, bool) {
	if con == nil || sup == nil || con == sup {
		return nil, false
	}
	con.mu.Lock()
	for _, l := range con.suppliers {
		if l.Supplier == sup {
			l.Flags |= fl
			con.mu.Unlock()
			return l, false
		}
	}
	l := &FwnodeLink{Supplier: sup, Consumer: con, Flags: fl}
	con.suppliers = append(con.suppliers, l)
	con.mu.Unlock()
	sup.mu.Lock()
	sup.consumers = append(sup.consumers, l)
	sup.mu.Unlock()
	return l, true
}

// DelFwnodeLink is __fwnode_link_del; it reports whether l was there (a
// nil or half-made link never is).
func DelFwnodeLink(l *FwnodeLink) bool {
	if l == nil || l.Consumer == nil || l.Supplier == nil {
		return false
	}
	l.Consumer.mu.Lock()
	found := removeFwlink(&l.Consumer.suppliers, l)
	l.Consumer.mu.Unlock()
	l.Supplier.mu.Lock()
	removeFwlink(&l.Supplier.consumers, l)
	l.Supplier.mu.Unlock()
	return found
}

func removeFwlink(s *[]*FwnodeLink, l *FwnodeLink) bool {
	for i, x := range *s {
		if x == l {
			*s = append((*s)[:i], (*s)[i+1:]...)
			return true
		}
	}
	return false
}

// IsAncestorOf is fwnode_is_ancestor_of: whether f is an ancestor of
// child (not child itself).
func (f *Fwnode) IsAncestorOf(child *Fwnode) bool {
	if f == nil || child == nil || child.ops == nil {
		return false
	}
	for p := child.ops.FwnodeParent(); p != nil && p.ops != nil; p = p.ops.FwnodeParent() {
		if p == f {
			return true
		}
	}
	return false
}

// WithFwnode sets the device's firmware node (dev->fwnode, and dev->of_node
// for a device-tree node).
func WithFwnode(f *Fwnode) Option { return func(d *Device) { d.fwnode = f } }

// Fwnode returns the device's firmware node, or nil (dev->fwnode).
func (d *Device) Fwnode() *Fwnode { return d.fwnode }
