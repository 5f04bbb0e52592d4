package kernelmodel

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/revocable/kernelmodel/merged"
	"github.com/drvsim/drvsim/revocable/kernelmodel/v10"
	v3 "github.com/drvsim/drvsim/revocable/kernelmodel/v3"
	"github.com/drvsim/drvsim/revocable/kernelmodel/v8"
	"github.com/drvsim/drvsim/sim"
)

// The tasks of the gpiolib experiment: a consumer reading a line's value
// through its descriptor, and the chip's driver removing the chip.
const (
	taskGetValue = "gpiod_get_value"
	taskRemove   = "gpiochip_remove"
)

// gpioDevice is struct gpio_device, the part the experiment needs: a
// kmalloc'ed, reference-counted object that outlives its chip for as long
// as a consumer holds a reference (a gpio_desc holds one through its
// gdev), and the chip's provider handle, in the form of each design.
// The consumer's reference is taken in setup (gpiod_get); the chip's
// driver holds the other until gpiochip_remove.
type gpioDevice struct {
	k    *klib.Kernel
	obj  *env.Object
	kref klib.Kref
	// release is the design's gpiodev_release before the kfree.
	release func()
}

func newGPIODevice(k *klib.Kernel) *gpioDevice {
	g := &gpioDevice{k: k, obj: k.Kzalloc("gpio_device")}
	g.kref.Init(k, g.obj) // the chip's
	g.kref.Get()          // the consumer's (gpiod_get)
	return g
}

// put is gpio_device_put: the last reference runs gpiodev_release.
func (g *gpioDevice) put() {
	g.kref.Put(func(*klib.Kref) {
		if g.release != nil {
			g.release()
		}
		klib.Kfree(g.obj)
	})
}

// readChip is what every gpiolib accessor does with the chip once it has
// it: a call into the chip's driver (a register read) that may sleep.
func readChip(s *sim.Sim, gc *env.Object) {
	gc.Access("gpio_chip_get_value: gc->get")
	s.CondResched("gc->get")
	gc.Access("gpio_chip_get_value: gc->get")
}

// V3GPIOLib is the gpiolib conversion's race (Johan Hovold's review of the
// January 2026 series) on the v3 design: struct gpio_device keeps
// chip_rp, the chip's provider, and gpiod_get_raw_value_commit does
// DEFINE_REVOCABLE(rev, desc->gdev->chip_rp), whose revocable_init takes
// a reference with kref_get (here v3's revocable_alloc, the same handle
// allocated instead of declared on the stack), then
// REVOCABLE_TRY_ACCESS_WITH. gpiochip_remove frees the provider with
// revocable_provider_free, dropping its only reference: nothing stops
// that from happening between the consumer's load of gdev->chip_rp and
// its kref_get, or before the load, since gdev->chip_rp is not cleared.
// kref_get then touches the freed provider: a use-after-free.
func V3GPIOLib(s *sim.Sim) {
	k := klib.New(s)
	gc := k.Kzalloc("gpio_chip")
	gdev := newGPIODevice(k)
	chipRp := v3.RevocableProviderAlloc(k, gc) // gdev->chip_rp
	s.Go(taskGetValue, func() {
		gdev.obj.Access("gpiod_get_raw_value_commit: desc->gdev->chip_rp")
		rp := chipRp
		k.Preempt("DEFINE_REVOCABLE")
		rev := v3.RevocableAlloc(k, rp) // revocable_init: kref_get(&rp->kref)
		v3.REVOCABLE(rev, func(res *env.Object) {
			if res != nil {
				readChip(s, res)
			}
		})
		v3.RevocableFree(rev)
		gdev.put()
	})
	s.Go(taskRemove, func() {
		v3.RevocableProviderFree(chipRp)
		klib.Kfree(gc)
		gdev.put()
	})
}

// MergedGPIOLib is the same race on the merged design, as the conversion
// was reposted for it: gdev->chip_rp is __rcu, gpiochip_remove calls
// revocable_provider_revoke(&gdev->chip_rp), which clears it and frees the
// provider with kfree_rcu, and the accessor runs
// REVOCABLE_TRY_ACCESS_WITH(gdev->chip_rp, gc). A consumer that loads
// gdev->chip_rp after the revoke gets NULL and fails cleanly; one that
// loaded it just before, and is preempted before revocable_init enters
// its RCU read section, holds a pointer no grace period waits for: the
// provider is freed by the kfree_rcu callback and kref_get_unless_zero
// reads freed memory. The macro's argument is evaluated outside the RCU
// section that is meant to protect it.
func MergedGPIOLib(s *sim.Sim) {
	k := klib.New(s)
	gc := k.Kzalloc("gpio_chip")
	gdev := newGPIODevice(k)
	chipRp := merged.RevocableProviderAlloc(k, gc) // gdev->chip_rp
	s.Go(taskGetValue, func() {
		gdev.obj.Access("gpiod_get_raw_value_commit: desc->gdev->chip_rp")
		rp := chipRp // the macro's argument, evaluated here
		k.Preempt("REVOCABLE_TRY_ACCESS_WITH")
		merged.REVOCABLE_TRY_ACCESS_WITH(k, rp, func(res *env.Object) {
			if res != nil {
				readChip(s, res)
			}
		})
		gdev.put()
	})
	s.Go(taskRemove, func() {
		gdev.obj.Access("gpiochip_remove: revocable_provider_revoke(&gdev->chip_rp)")
		merged.RevocableProviderRevoke(&chipRp)
		klib.Kfree(gc)
		gdev.put()
	})
}

// V8GPIOLib is the conversion on v8, as reposted with it: gdev->chip_rev
// comes from revocable_alloc, whose second reference belongs to the
// gpio_device (revocable_put in gpiodev_release); gpiochip_remove revokes;
// the accessor runs revocable_try_access_or_return(gdev->chip_rev, gc).
// The consumer holds a reference on the gpio_device, hence on the
// provider, so revocable_init's unconditional kref_get is safe: every
// schedule completes, with the chip's value or -ENODEV.
func V8GPIOLib(s *sim.Sim) {
	k := klib.New(s)
	gc := k.Kzalloc("gpio_chip")
	gdev := newGPIODevice(k)
	chipRev := v8.RevocableAlloc(k, gc)
	gdev.release = func() { v8.RevocablePut(chipRev) }
	s.Go(taskGetValue, func() {
		gdev.obj.Access("gpiod_get_raw_value_commit: desc->gdev->chip_rev")
		rp := chipRev
		k.Preempt("revocable_try_access_or_return")
		err := v8.RevocableTryAccessOrReturn(rp, func(res *env.Object) error {
			readChip(s, res)
			return nil
		})
		if err != nil && !errors.Is(err, v8.ErrNoDevice) {
			panic(fmt.Sprintf("gpiod_get_raw_value_commit: %v", err))
		}
		gdev.put()
	})
	s.Go(taskRemove, func() {
		v8.RevocableRevoke(chipRev)
		klib.Kfree(gc)
		gdev.put()
	})
}

// gpioDeviceV10 is struct gpio_device of the v10 conversion: the chip's
// provider is embedded (struct revocable chip_rev, set up with
// revocable_init), so it lives and dies with the gpio_device.
type gpioDeviceV10 struct {
	*gpioDevice
	chipRev v10.Revocable
}

// V10GPIOLib is the conversion on v10: the provider is embedded in the
// gpio_device (revocable_init(&gdev->chip_rev, gc)), gpiochip_remove
// revokes it, gpiodev_release drops the owner's reference before the
// gpio_device is freed, and the accessor runs
// revocable_try_access_or_return(&gdev->chip_rev, gc) while holding a
// reference on the gpio_device. Every schedule completes.
func V10GPIOLib(s *sim.Sim) {
	k := klib.New(s)
	gc := k.Kzalloc("gpio_chip")
	gdev := &gpioDeviceV10{gpioDevice: newGPIODevice(k)}
	v10.RevocableInit(k, &gdev.chipRev, gdev.obj, gc)
	gdev.release = func() { v10.RevocablePut(&gdev.chipRev) }
	s.Go(taskGetValue, func() {
		err := v10.RevocableTryAccessOrReturn(&gdev.chipRev, func(res *env.Object) error {
			readChip(s, res)
			return nil
		})
		if err != nil && !errors.Is(err, v10.ErrNoDevice) {
			panic(fmt.Sprintf("gpiod_get_raw_value_commit: %v", err))
		}
		gdev.put()
	})
	s.Go(taskRemove, func() {
		v10.RevocableRevoke(&gdev.chipRev)
		klib.Kfree(gc)
		gdev.put()
	})
}

// DrvsimGPIOLib is the experiment on drvsim's revocable: the gpio_device
// keeps the chip's *Provider, gpiochip_remove revokes it, and the
// accessor opens a Consumer on it (New), reads with With and closes it.
// New on a revoked provider fails with ErrRevoked; a provider pointer is
// a reference to a refcounted provider: every schedule completes.
func DrvsimGPIOLib(s *sim.Sim) {
	k := klib.New(s)
	gc := k.Kzalloc("gpio_chip")
	gdev := newGPIODevice(k)
	chip := revocable.NewProvider(s, gc, revocable.WithName("gpiochip0"))
	s.Go(taskGetValue, func() {
		gdev.obj.Access("gpiod_get_raw_value_commit: desc->gdev->chip")
		p := chip
		k.Preempt("revocable.New")
		if c, err := revocable.New(p); err == nil {
			err = c.OrReturn(func(res *env.Object) error { readChip(s, res); return nil })
			if err != nil && !errors.Is(err, revocable.ErrRevoked) {
				panic(fmt.Sprintf("With: %v", err))
			}
			if err := c.Close(); err != nil {
				panic(err)
			}
		} else if !errors.Is(err, revocable.ErrRevoked) {
			panic(fmt.Sprintf("New: %v", err))
		}
		gdev.put()
	})
	s.Go(taskRemove, func() {
		chip.Revoke()
		klib.Kfree(gc)
		gdev.put()
	})
	s.AddLeakCheck("revocable", func() []string { return providerLeaks(chip) })
}
