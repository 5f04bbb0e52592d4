package pm

import (
	"errors"

	"github.com/drvsim/drvsim/device"
)

// This file is runtime PM's side of device links with DL_FLAG_PM_RUNTIME
// (runtime.c: rpm_get_suppliers, __rpm_put_suppliers,
// pm_runtime_get_suppliers, pm_runtime_new_link, pm_runtime_drop_link).
// The kernel keeps a reference count per link (link->rpm_active, 1 when
// the consumer holds nothing); drvsim keeps the references above that one
// on the consumer's dev_pm_info.

// pmLinks returns the DL_FLAG_PM_RUNTIME links to dev's suppliers.
func pmLinks(dev *device.Device) []*device.Link {
	var out []*device.Link
	for _, l := range dev.Suppliers() {
		if l.Flags&device.LinkPMRuntime != 0 {
			out = append(out, l)
		}
	}
	return out
}

// getSupplierLinks is rpm_get_suppliers, before the consumer's
// runtime_resume: every supplier is resumed and held (a supplier whose
// runtime PM is disabled counts as resumed).
func (in *info) getSupplierLinks() error {
	for _, l := range pmLinks(in.dev) {
		si := in.m.infoOf(l.Supplier)
		err := si.resume(flagGetPut, "pm_runtime_get_sync")
		if err != nil && !errors.Is(err, device.ErrAccess) {
			si.putNoidle()
			return err
		}
		in.mu.Lock()
		if in.rpmActive == nil {
			in.rpmActive = map[*device.Link]int{}
		}
		in.rpmActive[l]++
		in.mu.Unlock()
	}
	return nil
}

// putSupplierLinks is __rpm_put_suppliers: the holds the consumer took
// are dropped (pm_runtime_release_supplier), each supplier checked for
// idleness if trySuspend.
func (in *info) putSupplierLinks(trySuspend bool) {
	for _, l := range pmLinks(in.dev) {
		in.releaseSupplier(l)
		if trySuspend {
			_ = in.m.infoOf(l.Supplier).idle(flagAsync, "pm_request_idle")
		}
	}
}

// releaseSupplier is pm_runtime_release_supplier: the consumer's holds on
// the link's supplier are given back without an idle check.
func (in *info) releaseSupplier(l *device.Link) {
	in.mu.Lock()
	n := in.rpmActive[l]
	delete(in.rpmActive, l)
	in.mu.Unlock()
	si := in.m.infoOf(l.Supplier)
	for ; n > 0; n-- {
		si.putNoidle()
	}
}

// suspendSuppliers is rpm_suspend_suppliers: after the consumer
// suspended, each supplier gets an idle check (pm_request_idle).
func (in *info) suspendSuppliers() {
	for _, l := range pmLinks(in.dev) {
		_ = in.m.infoOf(l.Supplier).idle(flagAsync, "pm_request_idle")
	}
}

// getSuppliers is pm_runtime_get_suppliers, before a probe: every
// supplier of a DL_FLAG_PM_RUNTIME link is resumed and held for the
// probe (supplier_preactivated).
func (in *info) getSuppliers() {
	for _, l := range pmLinks(in.dev) {
		in.mu.Lock()
		if in.preactivated == nil {
			in.preactivated = map[*device.Link]bool{}
		}
		in.preactivated[l] = true
		in.mu.Unlock()
		_ = in.m.infoOf(l.Supplier).resume(flagGetPut, "pm_runtime_get_sync")
	}
}

// putSuppliers is pm_runtime_put_suppliers, after the probe.
func (in *info) putSuppliers() {
	for _, l := range pmLinks(in.dev) {
		in.mu.Lock()
		was := in.preactivated[l]
		delete(in.preactivated, l)
		in.mu.Unlock()
		if was {
			_ = in.m.infoOf(l.Supplier).idle(flagGetPut|flagAsync, "pm_runtime_put")
		}
	}
}

// newLink is pm_runtime_new_link: the consumer has one more
// DL_FLAG_PM_RUNTIME link.
func (in *info) newLink() {
	in.mu.Lock()
	in.linksCount++
	in.mu.Unlock()
}

// dropLink is pm_runtime_drop_link and device_link_release_fn: one link
// fewer, the consumer's holds on the supplier given back, and the
// probe's too when the link goes while its consumer probes
// (supplier_preactivated: pm_runtime_put_suppliers will not find the
// link), then the supplier checked for idleness.
func (in *info) dropLink(l *device.Link) {
	in.mu.Lock()
	if in.linksCount > 0 {
		in.linksCount--
	}
	pre := in.preactivated[l]
	delete(in.preactivated, l)
	in.mu.Unlock()
	in.releaseSupplier(l)
	si := in.m.infoOf(l.Supplier)
	if pre {
		si.putNoidle()
	}
	_ = si.idle(flagAsync, "pm_request_idle")
}
