package v8

import (
	"errors"

	"github.com/drvsim/drvsim/env"
)

// ErrNoDevice is what RevocableTryAccessOrReturn returns when the resource is
// gone (-ENODEV).
var ErrNoDevice = errors.New("ENODEV: no such device")

// freeAccessRev models the DEFINE_FREE(access_rev, ...) cleanup every
// macro attaches to its handle:
//
//	revocable_withdraw_access(_T);
//	revocable_deinit(_T);
func freeAccessRev(rev *RevocableConsumer) {
	RevocableWithdrawAccess(rev)
	RevocableDeinit(rev)
}

// access is _revocable_try_access_with and its scoped form: a handle on
// the stack with the access_rev cleanup, revocable_init(rp, &_rev), then
// res = revocable_try_access(&_rev); body is the rest of the scope.
func access(rp *Revocable, body func(res *env.Object)) {
	var rev RevocableConsumer // struct revocable_consumer _rev;
	defer freeAccessRev(&rev)
	RevocableInit(rp, &rev)
	body(RevocableTryAccess(&rev))
}

// RevocableTryAccessWith models revocable_try_access_with(rp, res) and
// revocable_try_access_with_scoped(rp, res): body runs with the resource,
// NULL (nil) when it is gone, inside a read section on a handle of its
// own, and the section is left and the handle's reference dropped when
// body returns. (The two macros differ only in C's scoping; in Go the
// scope is body.)
func RevocableTryAccessWith(rp *Revocable, body func(res *env.Object)) {
	access(rp, body)
}

// RevocableTryAccessOrReturnErr models
// revocable_try_access_or_return_err(rp, res, err) and its _scoped form:
// when the resource is gone the enclosing function returns err at once
// (here: body does not run and err is returned); otherwise body runs with
// it and its error is returned.
func RevocableTryAccessOrReturnErr(rp *Revocable, err error, body func(res *env.Object) error) error {
	var ret error
	access(rp, func(res *env.Object) {
		if res == nil {
			ret = err
			return
		}
		ret = body(res)
	})
	return ret
}

// RevocableTryAccessOrReturn models revocable_try_access_or_return(rp,
// res) and its _scoped form: RevocableTryAccessOrReturnErr with -ENODEV.
func RevocableTryAccessOrReturn(rp *Revocable, body func(res *env.Object) error) error {
	return RevocableTryAccessOrReturnErr(rp, ErrNoDevice, body)
}

// RevocableTryAccessOrSkip models revocable_try_access_or_skip_scoped(rp,
// res) and revocable_try_access_or_return_void(rp, res): body runs only
// when the resource is there.
func RevocableTryAccessOrSkip(rp *Revocable, body func(res *env.Object)) {
	access(rp, func(res *env.Object) {
		if res != nil {
			body(res)
		}
	})
}
