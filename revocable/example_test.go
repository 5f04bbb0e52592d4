package revocable_test

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/trace"
)

type ecDevice struct{ name string }

// The provider/consumer cycle: a consumer reaches the resource until the
// provider revokes it, then gets nil; the provider is released when the
// last consumer closes.
func ExampleProvider() {
	log := trace.NewLog()
	p := revocable.NewProvider(env.New(env.WithLog(log)), &ecDevice{name: "cros-ec"}, revocable.WithName("ec0"))
	c, _ := revocable.New(p)

	if ec, a := c.TryAccess(); ec != nil {
		fmt.Println("access:", ec.name)
		a.Release()
	}

	p.Revoke() // the device is gone

	ec, a := c.TryAccess()
	fmt.Println("after revoke:", ec)
	a.Release() // released even when nil, as in the kernel

	_ = c.Close()
	fmt.Println("released:", p.Released())
	fmt.Print(log)
	// Output:
	// access: cros-ec
	// after revoke: <nil>
	// released: true
	//    1 revocable_provider_alloc ec0: refs=1
	//    2 revocable_init ec0: refs=2
	//    3 revocable_provider_revoke ec0: start
	//    4 synchronize_srcu ec0: grace period 1 start
	//    5 synchronize_srcu ec0: grace period 1 done
	//    6 revocable_provider_revoke ec0: grace period done
	//    7 revocable_deinit ec0: refs=0
	//    8 revocable_provider_release ec0: released
}

// OrReturn is the scoped form that returns an error once the resource is
// revoked (revocable_try_access_or_return): the block does not run.
func ExampleConsumer_OrReturn() {
	p := revocable.NewProvider(nil, &ecDevice{name: "cros-ec"})
	c, _ := revocable.New(p)
	defer c.Close()
	err := c.OrReturn(func(ec *ecDevice) error {
		fmt.Println("ioctl on", ec.name)
		return nil
	})
	fmt.Println("err:", err)
	p.Revoke()
	err = c.OrReturn(func(ec *ecDevice) error {
		fmt.Println("not reached")
		return nil
	})
	fmt.Println("revoked:", errors.Is(err, revocable.ErrRevoked))
	// Output:
	// ioctl on cros-ec
	// err: <nil>
	// revoked: true
}

// Scoped is REVOCABLE_TRY_ACCESS_SCOPED: the block always runs, with nil
// once the resource is revoked, and decides itself what that means.
func ExampleConsumer_Scoped() {
	p := revocable.NewProvider(nil, &ecDevice{name: "cros-ec"})
	c, _ := revocable.New(p)
	defer c.Close()
	status := func(ec *ecDevice) error {
		if ec == nil {
			fmt.Println("status: gone")
			return nil
		}
		fmt.Println("status: present,", ec.name)
		return nil
	}
	_ = c.Scoped(status)
	p.Revoke()
	_ = c.Scoped(status)
	// Output:
	// status: present, cros-ec
	// status: gone
}

// OrSkip is revocable_try_access_or_skip_scoped: a best-effort step, such
// as unregistering a notifier from the device at release, is skipped once
// the device is gone.
func ExampleConsumer_OrSkip() {
	p := revocable.NewProvider(nil, &ecDevice{name: "cros-ec"})
	c, _ := revocable.New(p)
	defer c.Close()
	unregister := func(ec *ecDevice) error {
		fmt.Println("notifier unregistered from", ec.name)
		return nil
	}
	fmt.Println(c.OrSkip(unregister))
	p.Revoke()
	fmt.Println(c.OrSkip(unregister))
	// Output:
	// notifier unregistered from cros-ec
	// <nil>
	// <nil>
}

// platformDev stands for a device: a devres list in a machine's
// environment (device.Device is one).
type platformDev struct {
	res *devres.List
	e   *env.Env
}

func (d *platformDev) Devres() *devres.List { return d.res }
func (d *platformDev) Env() *env.Env        { return d.e }

// DevmProvider ties the revoke to the device's devres list: unbinding the
// driver (devres_release_all) revokes the resource under open consumers.
func ExampleDevmProvider() {
	dev := &platformDev{res: devres.NewList("/sys/devices/platform/ec0"), e: env.New()}
	p, err := revocable.DevmProvider(dev, &ecDevice{name: "cros-ec"}, revocable.WithName("ec0"))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := revocable.New(p) // e.g. an open character device
	fmt.Println("devres:", dev.res.Names())

	dev.res.ReleaseAll() // driver unbound

	err = c.OrReturn(func(*ecDevice) error { return nil })
	fmt.Println(err)
	_ = c.Close()
	fmt.Println("released:", p.Released())
	// Output:
	// devres: [revocable_provider_revoke ec0]
	// revocable_try_access ec0: revocable: resource revoked (-ENODEV)
	// released: true
}
