package bus

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// AddLink is device_link_add: consumer depends on supplier. A managed link
// (without LinkStateless) makes the consumer's probe defer until the
// supplier is bound, and unbinding the supplier unbinds the consumer first.
// The consumer, with its children and consumers, moves to the end of the
// device list, so Shutdown reaches it before the supplier
// (device_reorder_to_tail).
//
// Flags: LinkStateless excludes every managed flag, LinkAutoprobeConsumer
// excludes both AUTOREMOVE flags, and LinkAutoremoveSupplier wins over
// LinkAutoremoveConsumer (the longer lifetime). A link between the same pair
// is returned again; when both the existing link and the request are
// managed, the link keeps the longer of the two lifetimes (AUTOREMOVE_SUPPLIER
// over AUTOREMOVE_CONSUMER, no AUTOREMOVE flag over either).
//
// A SYNC_STATE_ONLY link (fw_devlink's, with INFERRED and CYCLE at most)
// never holds the consumer's probe back and may close a loop; it is
// refused (ErrBusy) once the consumer is bound, and does not reorder the
// device list. Asking again for a link that exists without INFERRED or
// SYNC_STATE_ONLY takes those flags off it (a driver's own link outranks
// fw_devlink's).
//
// Errors (ErrInvalid): nil or identical devices, a flag combination above,
// or a link that would create a dependency loop (the supplier is the
// consumer's descendant or, transitively, its consumer); ErrNoDevice when
// the supplier is not registered in this system.
func (c *Core) AddLink(consumer, supplier *device.Device, flags device.LinkFlags) (*device.Link, error) {
	if consumer == nil || supplier == nil || consumer == supplier {
		return nil, fmt.Errorf("device_link_add: consumer and supplier must be two devices: %w", device.ErrInvalid)
	}
	const managedFlags = device.LinkAutoremoveConsumer | device.LinkAutoremoveSupplier | device.LinkAutoprobeConsumer
	if (flags&device.LinkStateless != 0 && flags&managedFlags != 0) ||
		(flags&device.LinkAutoprobeConsumer != 0 && flags&(device.LinkAutoremoveConsumer|device.LinkAutoremoveSupplier) != 0) {
		return nil, fmt.Errorf("device_link_add: invalid flags %s: %w", flags, device.ErrInvalid)
	}
	sso := flags&device.LinkSyncStateOnly != 0
	if sso && flags&^(device.LinkInferred|device.LinkCycle) != device.LinkSyncStateOnly {
		return nil, fmt.Errorf("device_link_add: invalid flags %s: %w", flags, device.ErrInvalid)
	}
	sp := c.devPrivOf(supplier)
	if sp == nil || !supplier.IsRegistered() {
		return nil, fmt.Errorf("device_link_add %s: supplier %s not registered: %w", consumer.Path(), supplier.Path(), device.ErrNoDevice)
	}
	c.mu.Lock()
	if !sso && isDependent(consumer, supplier) {
		c.mu.Unlock()
		return nil, fmt.Errorf("device_link_add %s: supplier %s depends on the consumer (loop): %w", consumer.Path(), supplier.Path(), device.ErrInvalid)
	}
	if st := consumer.State(); sso && (st == device.StateBound || st == device.StateUnbinding) {
		c.mu.Unlock()
		return nil, fmt.Errorf("device_link_add %s: a SYNC_STATE_ONLY link to a bound consumer is of no use: %w", consumer.Path(), device.ErrBusy)
	}
	if flags&device.LinkAutoremoveSupplier != 0 {
		flags &^= device.LinkAutoremoveConsumer
	}
	for _, l := range supplier.Consumers() {
		if l.Consumer != consumer {
			continue
		}
		if l.Flags&device.LinkInferred != 0 && flags&device.LinkInferred == 0 {
			l.Flags &^= device.LinkInferred
		}
		if l.Flags&device.LinkSyncStateOnly != 0 && !sso && flags&device.LinkStateless == 0 {
			l.Flags &^= device.LinkSyncStateOnly
			if cp := c.devPrivOf(consumer); cp != nil && cp.globalNode.linked() {
				c.reorderToTail(cp, map[*devPriv]bool{})
			}
		}
		if l.Managed() && flags&device.LinkStateless == 0 {
			// Keep the link for the longer lifetime.
			switch {
			case flags&device.LinkAutoremoveSupplier != 0:
				if l.Flags&device.LinkAutoremoveConsumer != 0 {
					l.Flags = l.Flags&^device.LinkAutoremoveConsumer | device.LinkAutoremoveSupplier
				}
			case flags&device.LinkAutoremoveConsumer == 0:
				l.Flags &^= device.LinkAutoremoveConsumer | device.LinkAutoremoveSupplier
			}
		}
		newPM := flags&device.LinkPMRuntime != 0 && l.Flags&device.LinkPMRuntime == 0
		if newPM {
			l.Flags |= device.LinkPMRuntime
		}
		h := c.pm
		c.mu.Unlock()
		if newPM && h != nil {
			h.LinkAdded(l) // pm_runtime_new_link
		}
		return l, nil
	}
	l := &device.Link{Supplier: supplier, Consumer: consumer, Flags: flags}
	consumer.Core().AddLink(l)
	if cp := c.devPrivOf(consumer); !sso && cp != nil && cp.globalNode.linked() {
		c.reorderToTail(cp, map[*devPriv]bool{})
	}
	h := c.pm
	c.mu.Unlock()
	c.emit(trace.Link, consumer.Path(), "device_link_add", "supplier="+supplier.Path()+" flags="+flags.String())
	if flags&device.LinkPMRuntime != 0 && h != nil {
		h.LinkAdded(l) // pm_runtime_new_link
	}
	return l, nil
}

// DeleteLink is device_link_del, which is for stateless links. A managed
// link belongs to the core: while its consumer is registered, deleting it
// is refused with a warning and ErrInvalid (the kernel's "Unable to drop a
// managed device link reference"). Deleting a link twice gives ErrNoEntry.
func (c *Core) DeleteLink(l *device.Link) error {
	if l == nil {
		return fmt.Errorf("device_link_del: nil link: %w", device.ErrInvalid)
	}
	c.mu.Lock()
	present := false
	for _, x := range l.Consumer.Suppliers() {
		if x == l {
			present = true
			break
		}
	}
	if !present {
		c.mu.Unlock()
		return fmt.Errorf("device_link_del: link already deleted: %w", device.ErrNoEntry)
	}
	if l.Managed() && l.Consumer.IsRegistered() {
		c.mu.Unlock()
		c.emit(trace.Warn, l.Consumer.Path(), "device_link_del", "Unable to drop a managed device link reference")
		return fmt.Errorf("device_link_del %s: managed link to %s: %w", l.Consumer.Path(), l.Supplier.Path(), device.ErrInvalid)
	}
	l.Consumer.Core().RemoveLink(l)
	h := c.pm
	c.mu.Unlock()
	c.emit(trace.Link, l.Consumer.Path(), "device_link_del", "supplier="+l.Supplier.Path())
	if l.Flags&device.LinkPMRuntime != 0 && h != nil {
		h.LinkRemoved(l) // pm_runtime_drop_link
	}
	return nil
}

func (c *Core) dropLink(l *device.Link, fn string) {
	c.mu.Lock()
	ok := l.Consumer.Core().RemoveLink(l)
	h := c.pm
	c.mu.Unlock()
	if ok {
		c.emit(trace.Link, l.Consumer.Path(), fn, "link to supplier "+l.Supplier.Path()+" dropped")
		if l.Flags&device.LinkPMRuntime != 0 && h != nil {
			h.LinkRemoved(l) // pm_runtime_drop_link
		}
	}
}

// isDependent is device_is_dependent: whether target is dev, a descendant
// of dev (by its parent chain, which also covers a child not yet on its
// parent's child list) or (transitively) a consumer of dev.
func isDependent(dev, target *device.Device) bool {
	if dev == target {
		return true
	}
	for a := target.Parent(); a != nil; a = a.Parent() {
		if a == dev {
			return true
		}
	}
	for _, ch := range dev.Children() {
		if isDependent(ch, target) {
			return true
		}
	}
	for _, l := range dev.Consumers() {
		if isDependent(l.Consumer, target) {
			return true
		}
	}
	return false
}

// reorderToTail is device_reorder_to_tail: p, its children and its
// consumers (of any kind of link) move to the end of the device list.
// Called with c.mu held.
func (c *Core) reorderToTail(p *devPriv, seen map[*devPriv]bool) {
	if seen[p] || !p.globalNode.linked() {
		return
	}
	seen[p] = true
	p.globalNode.unlink()
	c.devices.pushBack(&p.globalNode)
	if c.pm != nil {
		c.pm.DeviceMovedLast(p.dev) // device_pm_move_last
	}
	for _, ch := range p.dev.Children() {
		if cp := c.devPrivOf(ch); cp != nil {
			c.reorderToTail(cp, seen)
		}
	}
	for _, l := range p.dev.Consumers() {
		if cp := c.devPrivOf(l.Consumer); cp != nil {
			c.reorderToTail(cp, seen)
		}
	}
}

// linksCheckSuppliers is device_links_check_suppliers: the first supplier
// of a managed link that is not bound, or nil. A SYNC_STATE_ONLY link
// never holds the consumer back.
func (c *Core) linksCheckSuppliers(p *devPriv) *device.Device {
	for _, l := range p.dev.Suppliers() {
		if l.Managed() && l.Flags&device.LinkSyncStateOnly == 0 && l.Supplier.State() != device.StateBound {
			return l.Supplier
		}
	}
	return nil
}

// linksDriverBound is device_links_driver_bound: fw_devlink learns the
// device is bound (fwdevlink.go), consumers linked with AUTOPROBE_CONSUMER
// go on the deferred list, to be probed by the trigger that follows, and
// the device's and its suppliers' sync_state are checked (sync_state.go).
func (c *Core) linksDriverBound(p *devPriv) {
	c.fwDevlinkDriverBound(p)
	defer c.syncStateDriverBound(p)
	for _, l := range p.dev.Consumers() {
		if l.Flags&device.LinkAutoprobeConsumer == 0 || l.Consumer.Driver() != nil {
			continue
		}
		if cp := c.devPrivOf(l.Consumer); cp != nil && l.Consumer.IsRegistered() {
			c.deferredProbeAdd(cp)
		}
	}
}

// linksBusy is device_links_busy: a consumer of a managed link is bound or
// probing (SYNC_STATE_ONLY links aside: they are never unbound through).
func (c *Core) linksBusy(p *devPriv) bool {
	for _, l := range p.dev.Consumers() {
		if l.Managed() && l.Flags&device.LinkSyncStateOnly == 0 && l.Consumer.Driver() != nil {
			return true
		}
	}
	return false
}

// linksUnbindConsumers is device_links_unbind_consumers: release the
// driver of every bound consumer of a managed link, in link order.
func (c *Core) linksUnbindConsumers(p *devPriv) error {
	for _, l := range p.dev.Consumers() {
		if !l.Managed() || l.Flags&device.LinkSyncStateOnly != 0 || l.Consumer.Driver() == nil {
			continue
		}
		cp := c.devPrivOf(l.Consumer)
		if cp == nil {
			continue
		}
		c.emit(trace.Link, l.Consumer.Path(), "device_links_unbind_consumers", "supplier "+p.dev.Name()+" is unbinding")
		if err := c.releaseDriver(cp, nil); err != nil {
			return err
		}
	}
	return nil
}

// linksNoDriver is device_links_no_driver after a failed probe: through
// __device_links_no_driver, managed links to suppliers with
// AUTOREMOVE_CONSUMER are dropped, newest first.
func (c *Core) linksNoDriver(p *devPriv) {
	c.linksNoDriverSuppliers(p, "device_links_no_driver")
}

// linksNoDriverSuppliers is __device_links_no_driver: the device's supplier
// links, newest first; the managed ones with AUTOREMOVE_CONSUMER go.
func (c *Core) linksNoDriverSuppliers(p *devPriv, fn string) {
	sup := p.dev.Suppliers()
	for i := len(sup) - 1; i >= 0; i-- {
		if l := sup[i]; l.Managed() && l.Flags&device.LinkAutoremoveConsumer != 0 {
			c.dropLink(l, fn)
		}
	}
}

// linksDriverCleanup is device_links_driver_cleanup after an unbind: first
// the managed links to consumers with AUTOREMOVE_SUPPLIER are dropped, in
// list order, then __device_links_no_driver drops the managed links to
// suppliers with AUTOREMOVE_CONSUMER, newest first.
func (c *Core) linksDriverCleanup(p *devPriv) {
	for _, l := range p.dev.Consumers() {
		if l.Managed() && l.Flags&device.LinkAutoremoveSupplier != 0 {
			c.dropLink(l, "device_links_driver_cleanup")
		}
	}
	c.syncStateUnbound(p)
	c.linksNoDriverSuppliers(p, "device_links_driver_cleanup")
}

// linksPurge is device_links_purge, from device_del: every link of the
// device goes, the links to suppliers newest first, then the links to
// consumers newest first.
func (c *Core) linksPurge(p *devPriv) {
	sup := p.dev.Suppliers()
	for i := len(sup) - 1; i >= 0; i-- {
		c.dropLink(sup[i], "device_links_purge")
	}
	con := p.dev.Consumers()
	for i := len(con) - 1; i >= 0; i-- {
		c.dropLink(con[i], "device_links_purge")
	}
}
