/**
 * The FFM bindings of the trace device: one small class per kernel interface, each naming its
 * man page, every call linked with errno capture and every return code checked. Nothing native
 * leaves this package: callers see Java values and {@link dev.deja.device.ffm.NativeCallException}.
 */
package dev.deja.device.ffm;
