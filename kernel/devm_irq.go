package kernel

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
)

// DevmRequestIRQ is devm_request_irq: RequestIRQ, with free_irq
// registered on dev's devres list (action "devm_irq_release <irq>
// <name>"), so the handler is freed on unbind or a failed probe, after
// remove() and in reverse order of registration. If the registration
// fails (device.ErrNoMemory, fault injection) the interrupt is freed and the
// error returned.
func DevmRequestIRQ(dev Device, irq int, handler IRQHandler, flags IRQFlags, name string, devID any) error {
	if handler == nil {
		return fmt.Errorf("devm_request_irq %d %s: no handler: %w", irq, name, device.ErrInvalid)
	}
	return devmRequestIRQ("devm_request_irq", dev, irq, handler, nil, flags, name, devID)
}

// DevmRequestThreadedIRQ is devm_request_threaded_irq: RequestThreadedIRQ
// freed by dev's devres like DevmRequestIRQ.
func DevmRequestThreadedIRQ(dev Device, irq int, handler, threadFn IRQHandler, flags IRQFlags, name string, devID any) error {
	return devmRequestIRQ("devm_request_threaded_irq", dev, irq, handler, threadFn, flags, name, devID)
}

func devmRequestIRQ(fn string, dev Device, irq int, handler, threadFn IRQHandler, flags IRQFlags, name string, devID any) error {
	l, err := devresOf(fn, dev)
	if err != nil {
		return err
	}
	if err := requestIRQ(env.Of(dev), fn, irq, handler, threadFn, flags, name, devID); err != nil {
		return err
	}
	release := func() { FreeIRQ(dev, irq, devID) }
	if _, err := l.AddOrReset(fmt.Sprintf("devm_irq_release %d %s", irq, name), release); err != nil {
		return fmt.Errorf("%s %d %s: %w", fn, irq, name, err)
	}
	return nil
}
