package zoo

import (
	"errors"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/gpiolib"
)

func gpiolibSRCU() *Bug {
	b := &Bug{
		Name:      "gpiolib-srcu",
		Subsystem: "GPIO, gpiolib provider hot-unplug",
		Commit:    "d83cee3d2bb1", // full id and release: unconfirmed (bug-zoo.md)
		Subject:   "gpio: protect the pointer to gpio_chip in gpio_device with SRCU",
		Author:    "Bartosz Golaszewski, 2024-02",
		Report: "No single report: the series' stated aim is that nothing crashes when a GPIO provider " +
			"is unregistered during any consumer call. The inferred symptom: a NULL dereference, or a " +
			"use-after-free of the provider's gpio_chip, in a consumer's gpiod_get_value.",
		Race: "T1 (a consumer) calls gpiod_get_value: gdev->chip is set, and the call goes into the " +
			"provider's get(), which takes the chip's lock | T2 unbinds the provider: gpiochip_remove " +
			"sets gdev->chip to NULL, then devres frees the provider's state, gpio_chip, lock and " +
			"line values included | T1 reads the line's value in freed memory.",
		Fix: "gdev->chip becomes an SRCU-protected pointer: consumers dereference it inside an SRCU " +
			"read section (gpio_chip_guard) and get -ENODEV on NULL; gpiochip_remove clears it, then " +
			"synchronize_srcu waits for the readers, before devres frees the chip.",
		Notes: "The commit's full id is not confirmed in the stored copies; the 12-digit id and the " +
			"subject are. The rebuilt core keeps gpiolib's consumer path for a value read (validate_desc, " +
			"the can_sleep check, gpiod_get_raw_value_commit) and gpiochip_remove's numbing of the " +
			"device; the character device, sysfs, interrupts and the lookup by firmware node are " +
			"left out. The provider is gpio-sim, whose get() takes its chip's mutex. The NULL " +
			"dereference the old code also allowed (gdev->chip cleared between validate_desc and " +
			"the commit's second read of it) needs a preemption where the code calls nothing that " +
			"sleeps; drvsim preempts only at the primitives' schedule points, so it finds the " +
			"use-after-free inside get() instead.",
	}
	pair(b, "gpiolib", [2]string{
		"A consumer reads a GPIO line while the gpio-sim provider unbinds: gpiolib of v6.8 calls " +
			"into the chip unprotected, and the chip is freed under the call.",
		"The same race on SRCU-protected gdev->chip: the read gets the value or -ENODEV, and " +
			"gpiochip_remove waits for it before the chip is freed.",
	}, sim.BugUseAfterFree, gpiolibRun)
	return b
}

// gpiolibRun is one run: platform device gpio-sim.0 bound to a provider
// driver whose devm-allocated state embeds an 8-line gpio_chip
// registered with devm_gpiochip_add_data; a consumer device, gpio-keys,
// holds line 3 ("reset"). Task "keys" reads the line, then puts it; task
// "unbind" unbinds the provider through sysfs.
func gpiolibRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	v := gpiolib.Before
	if fixed {
		v = gpiolib.After
	}
	lib := gpiolib.New(sys, v)
	prov := platform.NewDriver("gpio-sim", func(dev *device.Device) error {
		mem := dev.Env().Memory().Alloc("struct gpio_sim_chip")
		if _, err := dev.Devres().AddOrReset("devm_kzalloc gpio_sim_chip", mem.Free); err != nil {
			return err
		}
		lock := kernel.NewMutex(dev, "gpio_sim_chip lock")
		// gpio_sim_get: under the chip's lock, the line's bit.
		gc := &gpiolib.Chip{Label: "gpio-sim.0", Ngpio: 8, Mem: mem, Get: func(gc *gpiolib.Chip, off int) (int, error) {
			gc.Mem.Access("gpio_sim_get: mutex_lock(&chip->lock)")
			lock.Lock()
			defer lock.Unlock()
			gc.Mem.Access("gpio_sim_get: test_bit(offset, chip->value_map)")
			return off & 1, nil
		}}
		return lib.DevmAddChip(dev, gc, mem)
	}, nil)
	must(sys.RegisterDriver(prov))
	pdev := sys.NewPlatformDevice("gpio-sim.0")
	must(sys.RegisterDevice(pdev))
	consumer := sys.NewPlatformDevice("gpio-keys")
	must(sys.RegisterDevice(consumer))
	lib.AddLookup("reset", "gpio-sim.0", 3)
	desc, err := lib.Get(consumer, "reset")
	must(err)
	s.Go("keys", func() {
		if _, err := desc.GetValue(); err != nil && !errors.Is(err, device.ErrNoDevice) {
			panic(err)
		}
		desc.Put()
	})
	s.Go("unbind", func() { must(sys.Unbind(pdev)) })
}
