package kernel

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/devres"
)

// The managed forms of the workqueue API (include/linux/devm-helpers.h,
// kernel/workqueue.c): what they set up is undone by the device's devres
// list, on unbind or a failed probe, in reverse order of registration.
// As the kernel's header warns, that happens after remove(): an interrupt
// left requested until devres frees it can still queue the work meanwhile,
// which is why the interrupt should be devm-managed too and registered
// after the work (so it is freed first).

// DevmWorkAutocancel is devm_work_autocancel: NewWork, with
// cancel_work_sync registered on dev's devres list (action
// "devm_work_drop <name>"). A failed registration (device.ErrNoMemory, fault
// injection) returns the error and no work.
func DevmWorkAutocancel(dev Device, name string, fn func(*Work)) (*Work, error) {
	l, err := devresOf("devm_work_autocancel", dev)
	if err != nil {
		return nil, err
	}
	w := NewWork(dev, name, fn)
	if _, err := l.Add("devm_work_drop "+name, func() { w.CancelSync() }); err != nil {
		return nil, fmt.Errorf("devm_work_autocancel %s: %w", name, err)
	}
	return w, nil
}

// DevmDelayedWorkAutocancel is devm_delayed_work_autocancel:
// NewDelayedWork, with cancel_delayed_work_sync registered on dev's
// devres list (action "devm_delayed_work_drop <name>").
func DevmDelayedWorkAutocancel(dev Device, name string, fn func(*DelayedWork)) (*DelayedWork, error) {
	l, err := devresOf("devm_delayed_work_autocancel", dev)
	if err != nil {
		return nil, err
	}
	dw := NewDelayedWork(dev, name, fn)
	if _, err := l.Add("devm_delayed_work_drop "+name, func() { dw.CancelSync() }); err != nil {
		return nil, fmt.Errorf("devm_delayed_work_autocancel %s: %w", name, err)
	}
	return dw, nil
}

// DevmAllocWorkqueue is devm_alloc_workqueue: AllocWorkqueue, with
// destroy_workqueue registered on dev's devres list (action
// "devm_destroy_workqueue <name>"; devm_add_action_or_reset, so a failed
// registration destroys the workqueue and returns the error).
func DevmAllocWorkqueue(dev Device, name string, flags WQFlags, maxActive int) (*Workqueue, error) {
	l, err := devresOf("devm_alloc_workqueue", dev)
	if err != nil {
		return nil, err
	}
	wq, err := AllocWorkqueue(dev, name, flags, maxActive)
	if err != nil {
		return nil, err
	}
	return devmWorkqueue(l, wq)
}

// DevmAllocOrderedWorkqueue is devm_alloc_ordered_workqueue:
// AllocOrderedWorkqueue, destroyed by dev's devres like
// DevmAllocWorkqueue.
func DevmAllocOrderedWorkqueue(dev Device, name string, flags WQFlags) (*Workqueue, error) {
	l, err := devresOf("devm_alloc_ordered_workqueue", dev)
	if err != nil {
		return nil, err
	}
	wq, err := AllocOrderedWorkqueue(dev, name, flags)
	if err != nil {
		return nil, err
	}
	return devmWorkqueue(l, wq)
}

func devmWorkqueue(l *devres.List, wq *Workqueue) (*Workqueue, error) {
	if _, err := l.AddOrReset("devm_destroy_workqueue "+wq.name, wq.Destroy); err != nil {
		return nil, fmt.Errorf("devm_alloc_workqueue %s: %w", wq.name, err)
	}
	return wq, nil
}

// devresOf returns dev's devres list, or device.ErrInvalid for no device.
func devresOf(fn string, dev Device) (*devres.List, error) {
	if isNil(dev) {
		return nil, fmt.Errorf("%s: no device: %w", fn, device.ErrInvalid)
	}
	l := dev.Devres()
	if l == nil {
		return nil, fmt.Errorf("%s: device has no devres list: %w", fn, device.ErrInvalid)
	}
	return l, nil
}
