package device

import "strings"

// LinkFlags are the DL_FLAG_* flags of device_link_add.
type LinkFlags uint32

// Device link flags (include/linux/device.h).
const (
	// LinkStateless is DL_FLAG_STATELESS: the core does not manage the
	// link; it affects neither probe nor unbind and lives until deleted
	// or purged.
	LinkStateless LinkFlags = 1 << iota
	// LinkAutoremoveConsumer is DL_FLAG_AUTOREMOVE_CONSUMER: drop the link
	// when the consumer's driver unbinds.
	LinkAutoremoveConsumer
	// LinkAutoremoveSupplier is DL_FLAG_AUTOREMOVE_SUPPLIER: drop the link
	// when the supplier's driver unbinds.
	LinkAutoremoveSupplier
	// LinkAutoprobeConsumer is DL_FLAG_AUTOPROBE_CONSUMER: probe the
	// consumer once the supplier binds.
	LinkAutoprobeConsumer
)

// String renders the flags as "STATELESS|AUTOREMOVE_CONSUMER", or "0".
func (f LinkFlags) String() string {
	var parts []string
	for _, x := range []struct {
		f LinkFlags
		n string
	}{{LinkStateless, "STATELESS"}, {LinkAutoremoveConsumer, "AUTOREMOVE_CONSUMER"},
		{LinkAutoremoveSupplier, "AUTOREMOVE_SUPPLIER"}, {LinkAutoprobeConsumer, "AUTOPROBE_CONSUMER"}} {
		if f&x.f != 0 {
			parts = append(parts, x.n)
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// Link is a device link (struct device_link): Consumer depends on Supplier.
// Links are created and deleted by the driver core (device_link_add,
// device_link_del); the Device keeps the lists (dev->links).
type Link struct {
	Supplier *Device
	Consumer *Device
	Flags    LinkFlags
}

// Managed reports whether the core manages the link (not STATELESS).
func (l *Link) Managed() bool { return l.Flags&LinkStateless == 0 }

// Suppliers returns the links on which d is the consumer.
func (d *Device) Suppliers() []*Link {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*Link(nil), d.suppliers...)
}

// Consumers returns the links on which d is the supplier.
func (d *Device) Consumers() []*Link {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*Link(nil), d.consumers...)
}

// AddLink records l on its consumer's and supplier's lists. A nil link, or
// one without both devices, is a bug of the driver core: it panics.
func (c CoreAccess) AddLink(l *Link) {
	if l == nil || l.Consumer == nil || l.Supplier == nil {
		panic("device: CoreAccess.AddLink: a link needs a consumer and a supplier")
	}
	l.Consumer.mu.Lock()
	l.Consumer.suppliers = append(l.Consumer.suppliers, l)
	l.Consumer.mu.Unlock()
	l.Supplier.mu.Lock()
	l.Supplier.consumers = append(l.Supplier.consumers, l)
	l.Supplier.mu.Unlock()
}

// RemoveLink removes l from its consumer's and supplier's lists; it reports
// whether l was there (never for a nil link or one without both devices).
func (c CoreAccess) RemoveLink(l *Link) bool {
	if l == nil || l.Consumer == nil || l.Supplier == nil {
		return false
	}
	l.Consumer.mu.Lock()
	found := removeLink(&l.Consumer.suppliers, l)
	l.Consumer.mu.Unlock()
	l.Supplier.mu.Lock()
	removeLink(&l.Supplier.consumers, l)
	l.Supplier.mu.Unlock()
	return found
}

func removeLink(s *[]*Link, l *Link) bool {
	for i, x := range *s {
		if x == l {
			*s = append((*s)[:i], (*s)[i+1:]...)
			return true
		}
	}
	return false
}
