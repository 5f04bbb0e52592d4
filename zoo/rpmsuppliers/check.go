package rpmsuppliers

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/pm"
)

// BugSuspendedSupplier is the kind of report CheckSuppliers files: a
// supplier runtime-suspended under a runtime-active consumer.
const BugSuspendedSupplier env.BugKind = "suspended-supplier"

// CheckSuppliers checks what DL_FLAG_PM_RUNTIME promises a runtime-active
// consumer: each supplier is runtime-active too (or has runtime PM
// disabled, so nothing suspended it). A consumer's I/O relies on it
// (pm_runtime_get_sync on an active consumer resumes nothing) and, on
// real hardware, finds a powered-down supplier otherwise; the kernel does
// not check it. A supplier found suspended is reported through the
// machine's env.Report, as a bug of kind BugSuspendedSupplier (under the
// simulator the run fails there), and returned. A consumer that is not
// active passes.
func CheckSuppliers(consumer *device.Device) error {
	cs, ok := pm.StateOf(consumer)
	if !ok || cs.Status != pm.Active || !cs.Enabled {
		return nil
	}
	for _, l := range pmLinks(consumer) {
		ss, _ := pm.StateOf(l.Supplier)
		if !ss.Enabled || ss.Status == pm.Active {
			continue
		}
		r := &env.Report{
			Kind:  BugSuspendedSupplier,
			Title: fmt.Sprintf("BUG: supplier %s runtime-%s under active consumer %s", l.Supplier.Name(), ss.Status, consumer.Name()),
			Details: fmt.Sprintf("consumer %s: %s\nsupplier %s: %s\nlink flags %s\nCall trace:\n%s\n",
				consumer.Path(), cs, l.Supplier.Path(), ss, l.Flags, strings.Join(env.Callers(1), "\n")),
		}
		consumer.Env().Report("rpm_check_suppliers", r)
		return r
	}
	return nil
}
