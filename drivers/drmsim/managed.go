package drmsim

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// managedRes is one entry of the drmm list (struct drmres): a release
// action or a managed allocation.
type managedRes struct {
	name string
	fn   func()
}

// AddAction is drmm_add_action: fn runs when the drm device's last
// reference is dropped (drm_managed_release, newest first), not when the
// parent is unbound; that is the difference from devm_add_action, whose
// actions run at unbind. It fails with ErrNoMemory only through fault
// injection (FaultDrmmAdd), and then fn does not run; AddActionOrReset runs
// it.
func (d *Device) AddAction(name string, fn func()) error {
	if fn == nil {
		return fmt.Errorf("drmm_add_action %s: nil action: %w", name, ErrInvalid)
	}
	if err := d.drmmFault("drmm_add_action", name); err != nil {
		return err
	}
	return d.addManaged(name, fn, true)
}

// AddActionOrReset is drmm_add_action_or_reset: AddAction, running fn at
// once when it fails.
func (d *Device) AddActionOrReset(name string, fn func()) error {
	err := d.AddAction(name, fn)
	if err != nil && fn != nil {
		fn()
	}
	return err
}

// Kzalloc is drmm_kzalloc: a zero-valued T as a simulated allocation of the
// device's arena, freed when the drm device is released. Touch it through
// env.Value's Load and Store, which report a use after that release.
func Kzalloc[T any](d *Device, name string) (*env.Value[T], error) {
	if err := d.drmmFault("drmm_kzalloc", name); err != nil {
		return nil, err
	}
	var zero T
	v := env.NewValue(d.e.Memory(), name, zero)
	if err := d.addManaged("kfree "+name, v.Free, false); err != nil {
		v.Free()
		return nil, err
	}
	d.emit(KindManaged, "drmm_kzalloc", name)
	return v, nil
}

func (d *Device) drmmFault(fn, name string) error {
	if err := d.e.Fault(FaultDrmmAdd); err != nil {
		d.emit(trace.Fault, fn, fmt.Sprintf("%s %s: %v", FaultDrmmAdd, name, err))
		return fmt.Errorf("%s %s: %w: %w", fn, name, ErrNoMemory, err)
	}
	return nil
}

// addManaged is add_dr: append to the device's drmm list.
func (d *Device) addManaged(name string, fn func(), traced bool) error {
	d.mu.Lock()
	if d.released {
		d.mu.Unlock()
		d.emit(trace.Warn, "drmm_add_action", "action added to a released drm device: "+name)
		return fmt.Errorf("drmm_add_action %s: device released: %w", name, ErrNoDevice)
	}
	d.managed = append(d.managed, managedRes{name: name, fn: fn})
	d.mu.Unlock()
	if traced {
		d.emit(KindManaged, "drmm_add_action", name)
	}
	return nil
}

// ManagedActions returns the names of the drmm entries still registered,
// oldest first (the core's own included: "drm_dev_init_release",
// "drm_minor_alloc_release cardN").
func (d *Device) ManagedActions() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, len(d.managed))
	for i, r := range d.managed {
		out[i] = r.name
	}
	return out
}

// managedRelease is drm_managed_release: every entry, newest first.
func (d *Device) managedRelease() {
	d.mu.Lock()
	todo := d.managed
	d.managed = nil
	d.mu.Unlock()
	d.emit(KindManaged, "drm_managed_release", fmt.Sprintf("%d entries", len(todo)))
	for i := len(todo) - 1; i >= 0; i-- {
		r := todo[i]
		d.e.Yield(sched.Point{Kind: "drmm", Func: "drm_managed_release", Obj: r.name})
		d.emit(KindManaged, "drm_managed_release", "REL "+r.name)
		r.fn()
	}
}
