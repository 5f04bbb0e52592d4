package bus

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// fw_devlink (drivers/base/core.c): device links inferred from the
// firmware. A device's firmware node (a device-tree node) names its
// suppliers in its properties (clocks, *-supply, *-gpios, interrupts...).
// When the device is added, every node of its subtree is parsed once into
// fwnode links (consumer node -> supplier node); a fwnode link whose two
// ends have devices becomes a device link (INFERRED, plus
// AUTOPROBE_CONSUMER, or SYNC_STATE_ONLY when permissive or made on behalf
// of a descendant node), and the fwnode link goes. A consumer with a
// fwnode link left (its supplier has no device yet) does not probe:
// "wait for supplier". Cycles are found and relaxed to SYNC_STATE_ONLY
// links, which never hold a probe back.

// FwDevlinkMode is the fw_devlink= kernel parameter.
type FwDevlinkMode int

// fw_devlink modes.
const (
	// FwDevlinkOn is fw_devlink=on, the default: inferred links make the
	// consumer wait for its supplier (INFERRED|AUTOPROBE_CONSUMER).
	FwDevlinkOn FwDevlinkMode = iota
	// FwDevlinkPermissive is fw_devlink=permissive: inferred links only
	// hold the supplier's sync_state back (INFERRED|SYNC_STATE_ONLY).
	FwDevlinkPermissive
	// FwDevlinkOff is fw_devlink=off: nothing is parsed, nothing linked.
	FwDevlinkOff
)

// String returns the parameter's value, e.g. "on".
func (m FwDevlinkMode) String() string {
	return [...]string{"on", "permissive", "off"}[m]
}

// SyncStateMode is the fw_devlink.sync_state= kernel parameter: what the
// deferred-probe timeout does to a supplier whose consumers never bound.
type SyncStateMode int

// sync_state modes.
const (
	// SyncStateStrict (the default): the supplier waits forever; the
	// timeout logs "sync_state() pending due to <consumer>".
	SyncStateStrict SyncStateMode = iota
	// SyncStateTimeout: the timeout calls it anyway, "Timed out. Forcing
	// sync_state()".
	SyncStateTimeout
)

// fwDevlink is the driver core's fw_devlink and sync_state state (what
// core.c keeps in fw_devlink_flags, fwnode_link_lock, deferred_sync,
// defer_sync_state_count, fw_devlink_drv_reg_done).
type fwDevlink struct {
	mu sync.Mutex // fwnode_link_lock (and device_links_write_lock for the fwnode flags)

	mode       FwDevlinkMode
	syncMode   SyncStateMode
	drvRegDone bool // the deferred-probe timeout fired (fw_devlink_drv_reg_done)

	// sync_state (guarded by Core.mu)
	pauseCount   int        // defer_sync_state_count
	deferredSync []*devPriv // deferred_sync, in order
}

const (
	fwFlagsOn         = device.LinkInferred | device.LinkAutoprobeConsumer
	fwFlagsPermissive = device.LinkInferred | device.LinkSyncStateOnly
)

// SetFwDevlink sets the fw_devlink= mode (on by default). Like the kernel
// parameter it is meant for boot, before devices with firmware nodes are
// added.
func (c *Core) SetFwDevlink(m FwDevlinkMode) {
	c.fw.mu.Lock()
	c.fw.mode = m
	c.fw.mu.Unlock()
}

// SetFwDevlinkSyncState sets fw_devlink.sync_state= (strict by default).
func (c *Core) SetFwDevlinkSyncState(m SyncStateMode) {
	c.fw.mu.Lock()
	c.fw.syncMode = m
	c.fw.mu.Unlock()
}

// fwLinkFlags is fw_devlink_get_flags: the device-link flags of a fwnode
// link between a device's own node and its supplier.
func (c *Core) fwLinkFlags(fl device.FwlinkFlags) device.LinkFlags {
	if fl&device.FwlinkCycle != 0 {
		return fwFlagsPermissive | device.LinkCycle
	}
	if c.fw.mode == FwDevlinkPermissive {
		return fwFlagsPermissive
	}
	return fwFlagsOn
}

// fwDevlinkLinkDevice is device_add's fw_devlink step, before
// bus_probe_device: the device becomes its node's device, the node's
// subtree is parsed into fwnode links (fw_devlink_parse_fwtree), the
// consumers waiting for this node link to the device
// (__fw_devlink_link_to_consumers) and the device to its suppliers
// (__fw_devlink_link_to_suppliers).
func (c *Core) fwDevlinkLinkDevice(p *devPriv) {
	dev := p.dev
	fw := dev.Fwnode()
	if fw == nil || fw.Device() != nil {
		return
	}
	fw.Core().SetDevice(dev)
	c.fw.mu.Lock()
	defer c.fw.mu.Unlock()
	if c.fw.mode == FwDevlinkOff {
		return
	}
	c.fwParseTree(fw, 0)
	c.fwLinkToConsumers(dev)
	c.fwLinkToSuppliers(dev, fw, 0)
}

// maxFwDepth bounds the walks of a firmware tree (package dtc bounds the
// depth of a source to 64).
const maxFwDepth = 128

// fwParseTree is fw_devlink_parse_fwtree: the node's suppliers
// (fwnode.add_links, once per node), then each available child's.
func (c *Core) fwParseTree(fw *device.Fwnode, depth int) {
	if depth > maxFwDepth {
		return
	}
	if !fw.Core().TestAndSetFlags(device.FwnodeLinksAdded) {
		fw.Ops().FwnodeAddLinks(func(sup *device.Fwnode) { c.fwnodeLinkAdd(fw, sup) })
	}
	for _, ch := range fw.Ops().FwnodeChildren() {
		c.fwParseTree(ch, depth+1)
	}
}

// fwnodeLinkAdd is fwnode_link_add.
func (c *Core) fwnodeLinkAdd(con, sup *device.Fwnode) {
	if _, made := device.AddFwnodeLink(con, sup, 0); made {
		c.emit(trace.Link, con.String(), "fwnode_link_add", "supplier="+sup.String())
	}
}

// fwnodeLinkDel is __fwnode_link_del.
func (c *Core) fwnodeLinkDel(l *device.FwnodeLink, why string) {
	if device.DelFwnodeLink(l) {
		c.emit(trace.Link, l.Consumer.String(), "__fwnode_link_del", "supplier="+l.Supplier.String()+": "+why)
	}
}

// nextParentDev is fwnode_get_next_parent_dev: the device of the nearest
// ancestor node that has one.
func nextParentDev(fw *device.Fwnode) *device.Device {
	for p, n := fw.Ops().FwnodeParent(), 0; p != nil && n < maxFwDepth; p, n = p.Ops().FwnodeParent(), n+1 {
		if d := p.Device(); d != nil {
			return d
		}
	}
	return nil
}

// errAgain is fw_devlink_create_devlink's -EAGAIN: the supplier has no
// device yet; the fwnode link stays.
var errAgain = fmt.Errorf("supplier has no device yet: %w", device.ErrAgain)

// fwLinkToConsumers is __fw_devlink_link_to_consumers: every fwnode link
// to dev's node becomes a device link from its consumer's device or, when
// the consumer node has none yet, a SYNC_STATE_ONLY proxy link from the
// nearest ancestor device (unless that device is dev's own ancestor).
// Called with fw.mu held.
func (c *Core) fwLinkToConsumers(dev *device.Device) {
	fw := dev.Fwnode()
	for _, l := range fw.Consumers() {
		con := l.Consumer.Device()
		own := true
		if con == nil {
			con = nextParentDev(l.Consumer)
			if con != nil && con.Fwnode().IsAncestorOf(fw) {
				con = nil
			} else {
				own = false
			}
		}
		if con == nil {
			continue
		}
		err := c.fwCreateDevlink(con, fw, l)
		if !own || err == errAgain {
			continue
		}
		c.fwnodeLinkDel(l, "device link made")
	}
}

// fwLinkToSuppliers is __fw_devlink_link_to_suppliers: every supplier
// fwnode link of fw becomes a device link from dev (dropped once made when
// fw is dev's own node), then, for every available child node, proxy
// SYNC_STATE_ONLY links for its suppliers. Called with fw.mu held.
func (c *Core) fwLinkToSuppliers(dev *device.Device, fw *device.Fwnode, depth int) {
	if depth > maxFwDepth {
		return
	}
	own := dev.Fwnode() == fw
	for _, l := range fw.Suppliers() {
		err := c.fwCreateDevlink(dev, l.Supplier, l)
		if !own || err == errAgain {
			continue
		}
		c.fwnodeLinkDel(l, "device link made")
	}
	for _, ch := range fw.Ops().FwnodeChildren() {
		c.fwLinkToSuppliers(dev, ch, depth+1)
	}
}

// fwCreateDevlink is fw_devlink_create_devlink: a device link from con to
// the device of the supplier node (or of its nearest ancestor with one,
// for a NOT_DEVICE node); the cycle search first. It returns errAgain
// when the supplier has no device yet, another error when no link can be
// made, nil when one was made or exists. Called with fw.mu held.
func (c *Core) fwCreateDevlink(con *device.Device, sup *device.Fwnode, l *device.FwnodeLink) error {
	if l.Flags&device.FwlinkIgnore != 0 {
		return nil
	}
	flags := device.LinkFlags(fwFlagsPermissive)
	if con.Fwnode() == l.Consumer {
		flags = c.fwLinkFlags(l.Flags)
	}
	if c.fwRelaxCycles(l.Consumer, sup, 0) {
		l.Flags |= device.FwlinkCycle
		if con.Fwnode() == l.Consumer {
			flags = c.fwLinkFlags(l.Flags)
		}
		c.emit(trace.Link, con.Path(), "fw_devlink_create_devlink", "Fixed dependency cycle(s) with "+sup.String())
	}
	var supDev *device.Device
	if sup.Flags()&device.FwnodeNotDevice != 0 {
		supDev = nextParentDev(sup)
	} else {
		supDev = sup.Device()
	}
	if supDev != nil {
		if supDev.Driver() == nil && sup.Flags()&device.FwnodeInitialized != 0 {
			return fmt.Errorf("not linking %s: the device might never probe: %w", sup, device.ErrInvalid)
		}
		if con == supDev {
			return nil
		}
		if _, err := c.AddLink(con, supDev, flags); err != nil {
			c.emit(trace.Link, con.Path(), "fw_devlink_create_devlink", fmt.Sprintf("Failed to create device link (%s) with supplier %s for %s", flags, supDev.Name(), l.Consumer))
			return err
		}
		return nil
	}
	if initWithoutDriver(sup) {
		return fmt.Errorf("not linking %s: it might never become a device: %w", sup, device.ErrInvalid)
	}
	return errAgain
}

// initWithoutDriver is fwnode_init_without_drv or
// fwnode_ancestor_init_without_drv: the node or an ancestor was
// initialized without a device, or its device never bound.
func initWithoutDriver(fw *device.Fwnode) bool {
	for x, n := fw, 0; x != nil && n < maxFwDepth; x, n = x.Ops().FwnodeParent(), n+1 {
		if x.Flags()&device.FwnodeInitialized != 0 {
			d := x.Device()
			if d == nil || d.Driver() == nil {
				return true
			}
		}
	}
	return false
}

// fwRelaxCycles is __fw_devlink_relax_cycles: a depth-first search from
// sup, over its supplier fwnode links, its device's parent and its
// device's supplier links, for con. Every link on a cycle found is
// relaxed: fwnode links get FWLINK_FLAG_CYCLE, inferred device links
// become SYNC_STATE_ONLY|CYCLE. The search does not go past a supplier
// that is bound while con has not started binding. Called with fw.mu held.
func (c *Core) fwRelaxCycles(con, sup *device.Fwnode, depth int) bool {
	if sup == nil || depth > maxFwDepth {
		return false
	}
	if sup.Core().TestAndSetFlags(device.FwnodeVisited) {
		return false
	}
	defer sup.Core().ClearFlags(device.FwnodeVisited)
	if sup == con {
		return true
	}
	supDev, conDev := sup.Device(), con.Device()
	if supDev != nil && supDev.State() == device.StateBound && conDev != nil && conDev.Driver() == nil {
		return false
	}
	ret := false
	for _, l := range sup.Suppliers() {
		if l.Flags&device.FwlinkIgnore != 0 {
			continue
		}
		if c.fwRelaxCycles(con, l.Supplier, depth+1) {
			l.Flags |= device.FwlinkCycle
			ret = true
		}
	}
	var par *device.Device
	if supDev != nil {
		par = supDev.Parent()
	} else {
		par = nextParentDev(sup)
	}
	if par != nil && par.Fwnode() != nil && c.fwRelaxCycles(con, par.Fwnode(), depth+1) {
		ret = true
	}
	if supDev == nil {
		return ret
	}
	for _, dl := range supDev.Suppliers() {
		if dl.Flags&device.LinkSyncStateOnly != 0 && dl.Flags&device.LinkCycle == 0 {
			continue
		}
		if dl.Supplier.Fwnode() != nil && c.fwRelaxCycles(con, dl.Supplier.Fwnode(), depth+1) {
			c.fwRelaxLink(dl)
			c.mu.Lock()
			dl.Flags |= device.LinkCycle
			c.mu.Unlock()
			ret = true
		}
	}
	return ret
}

// fwRelaxLink is fw_devlink_relax_link: an inferred link that holds its
// consumer back becomes SYNC_STATE_ONLY.
func (c *Core) fwRelaxLink(l *device.Link) {
	c.mu.Lock()
	relax := l.Flags&device.LinkInferred != 0 && l.Flags&device.LinkSyncStateOnly == 0
	if relax {
		l.Flags = fwFlagsPermissive
	}
	c.mu.Unlock()
	if relax {
		c.emit(trace.Link, l.Consumer.Path(), "fw_devlink_relax_link", "Relaxing link with "+l.Supplier.Name())
	}
}

// fwnodeWaitingFor is the fwnode half of device_links_check_suppliers
// (fwnode_links_check_suppliers): the first supplier node of the device's
// own node that has no device link yet (and is not part of a cycle); nil
// when none, or when fw_devlink is permissive or off.
func (c *Core) fwnodeWaitingFor(p *devPriv) *device.Fwnode {
	fw := p.dev.Fwnode()
	if fw == nil {
		return nil
	}
	c.fw.mu.Lock()
	defer c.fw.mu.Unlock()
	if c.fw.mode != FwDevlinkOn {
		return nil
	}
	for _, l := range fw.Suppliers() {
		if l.Flags&(device.FwlinkCycle|device.FwlinkIgnore) == 0 {
			return l.Supplier
		}
	}
	return nil
}

// fwDevlinkDriverBound is device_links_driver_bound's fw_devlink step: a
// device bound with its node: its own node's leftover supplier fwnode
// links go (fwnode_links_purge_suppliers), child nodes still without a
// device are taken to be implemented by this device (NOT_DEVICE, their
// consumers moved here: __fw_devlink_pickup_dangling_consumers), and the
// consumers link to it.
func (c *Core) fwDevlinkDriverBound(p *devPriv) {
	dev := p.dev
	fw := dev.Fwnode()
	if fw == nil || fw.Device() != dev {
		return
	}
	c.fw.mu.Lock()
	defer c.fw.mu.Unlock()
	for _, l := range fw.Suppliers() {
		c.fwnodeLinkDel(l, "the consumer is bound")
	}
	for _, ch := range fw.Ops().FwnodeChildren() {
		c.fwPickupDangling(ch, fw, 0)
	}
	c.fwLinkToConsumers(dev)
}

// fwPickupDangling is __fw_devlink_pickup_dangling_consumers.
func (c *Core) fwPickupDangling(fw, newSup *device.Fwnode, depth int) {
	if depth > maxFwDepth {
		return
	}
	if d := fw.Device(); d != nil && d.Bus() != nil {
		return
	}
	fw.Core().SetFlags(device.FwnodeNotDevice)
	for _, l := range fw.Consumers() {
		device.AddFwnodeLink(l.Consumer, newSup, l.Flags)
		c.fwnodeLinkDel(l, "moved to "+newSup.String())
	}
	for _, ch := range fw.Ops().FwnodeChildren() {
		c.fwPickupDangling(ch, newSup, depth+1)
	}
}

// fwDevlinkDeviceDel is device_del's fw_devlink step: the node no longer
// has the device.
func (c *Core) fwDevlinkDeviceDel(p *devPriv) {
	if fw := p.dev.Fwnode(); fw != nil && fw.Device() == p.dev {
		fw.Core().SetDevice(nil)
	}
}

// fwDevlinkUnblockConsumers is the end of device_add: once the
// deferred-probe timeout has fired (all drivers are taken to be
// registered), a new device no driver matched does not hold its consumers
// back (fw_devlink_unblock_consumers).
func (c *Core) fwDevlinkUnblockConsumers(p *devPriv) {
	if p.dev.Fwnode() == nil {
		return
	}
	c.fw.mu.Lock()
	done := c.fw.drvRegDone && c.fw.mode == FwDevlinkOn
	c.fw.mu.Unlock()
	c.mu.Lock()
	can := p.canMatch
	c.mu.Unlock()
	if !done || can {
		return
	}
	for _, l := range p.dev.Consumers() {
		c.fwRelaxLink(l)
	}
}

// fwDevlinkDriversDone is fw_devlink_drivers_done, at the deferred-probe
// timeout: every inferred link whose supplier no driver ever matched
// (!can_match) is relaxed, so its consumer may probe without it.
func (c *Core) fwDevlinkDriversDone() {
	c.fw.mu.Lock()
	c.fw.drvRegDone = true
	c.fw.mu.Unlock()
	for _, sup := range c.Devices() {
		sp := c.devPrivOf(sup)
		if sp == nil {
			continue
		}
		c.mu.Lock()
		can := sp.canMatch
		c.mu.Unlock()
		if can {
			continue
		}
		for _, l := range sup.Consumers() {
			c.fwRelaxLink(l)
		}
	}
}
