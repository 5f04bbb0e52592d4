package revocable

import (
	"fmt"
	"reflect"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
)

// Owner is a device with a managed-resource list, in its machine's
// environment; device.Device implements it. It is what devm_* functions
// take as their struct device *.
type Owner interface {
	env.Host
	// Devres returns the device's devres list.
	Devres() *devres.List
}

// DevmProvider is NewProvider whose Revoke is registered as a managed
// action of dev, named "revocable_provider_revoke <name>", so the resource
// is revoked when the device's devres list is released (on unbind or a
// failed probe): devm_revocable_provider_alloc of the v3 seed.
//
// Registration uses devres AddOrReset: when it fails (devres.ErrNoMemory,
// only under fault injection) the provider is revoked at once and the error
// is returned, together with the already revoked provider (the kernel
// returns NULL; the provider is returned so that callers and tests can
// observe it; New on it fails with ErrRevoked). A nil dev (a typed nil
// pointer too), or one without a devres list, gives an error wrapping
// devres.ErrInvalid and no provider. The provider lives in dev's
// environment (see NewProvider).
func DevmProvider[T any](dev Owner, res *T, opts ...Option) (*Provider[T], error) {
	if dev == nil || isNilPointer(dev) {
		return nil, fmt.Errorf("devm_revocable_provider_alloc: no device: %w", devres.ErrInvalid)
	}
	l := dev.Devres()
	if l == nil {
		return nil, fmt.Errorf("devm_revocable_provider_alloc: device has no devres list: %w", devres.ErrInvalid)
	}
	p := NewProvider(dev, res, opts...)
	if _, err := l.AddOrReset("revocable_provider_revoke "+p.name, p.Revoke); err != nil {
		return p, fmt.Errorf("devm_revocable_provider_alloc %s: %w", p.name, err)
	}
	return p, nil
}

// isNilPointer reports whether v holds a nil pointer (a typed nil in an
// interface).
func isNilPointer(v any) bool {
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}
