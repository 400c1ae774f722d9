/* The binary interface between a compiled module (the shared object the compile driver builds
 * from wasm2c's output and our glue) and the runtime in the watchdog. The glue embeds this file's
 * text, so both sides are compiled from the same declarations; any change to it bumps
 * OFW_WASM_ABI_VERSION, which is also part of the compile cache's key.
 *
 * The module's code refers to nothing outside libc: its WASI imports and every wasm_rt_*
 * function wasm2c's output calls are defined by the glue as forwarders into the runtime table
 * the watchdog passes to the entry point. C, because the glue is C. */
#ifndef OFW_WASM_MODULE_ABI_H
#define OFW_WASM_MODULE_ABI_H

#include <stdint.h>

#include <wasm-rt.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OFW_WASM_ABI_VERSION 2

/* Traps the glue raises itself, beside wasm_rt_trap_t's: wasm2c fails every call_indirect with
 * one trap, so the glue looks at the table slot first and names what is wrong with it. The
 * numbers are far from wasm_rt_trap_t's so that the two sets never meet. */
#define OFW_TRAP_TABLE_OUT_OF_BOUNDS 1000u /* the index is past the table's end */
#define OFW_TRAP_UNDEFINED_ELEMENT 1001u   /* the slot holds no function */

/* What the watchdog provides. Functions marked "does not return" leave guest code with a
 * siglongjmp to the runner. */
typedef struct ofw_runtime_v1 {
  uint32_t abi_version;
  /* A WASI import: `function` is its index in wasi_functions.def, `args` its parameters widened
   * to 64 bits. Returns the function's result; does not return when the call ends the run
   * (proc_exit, interruption). */
  uint32_t (*host_call)(void* host_context, uint32_t function, const uint64_t* args);
  /* A wasm_rt_trap_t or one of the OFW_TRAP_ codes. Does not return. */
  void (*trap)(uint32_t trap);
  uint32_t (*register_func_type)(uint32_t params, uint32_t results, const wasm_rt_type_t* types);
  void (*allocate_memory)(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages);
  uint32_t (*grow_memory)(wasm_rt_memory_t* memory, uint32_t delta_pages);
  void (*free_memory)(wasm_rt_memory_t* memory);
  void (*allocate_funcref_table)(wasm_rt_funcref_table_t* table, uint32_t elements,
                                 uint32_t max_elements);
  void (*free_funcref_table)(wasm_rt_funcref_table_t* table);
  uint32_t (*grow_funcref_table)(wasm_rt_funcref_table_t* table, uint32_t delta,
                                 const wasm_rt_funcref_t* init);
  void (*allocate_externref_table)(wasm_rt_externref_table_t* table, uint32_t elements,
                                   uint32_t max_elements);
  void (*free_externref_table)(wasm_rt_externref_table_t* table);
  uint32_t (*grow_externref_table)(wasm_rt_externref_table_t* table, uint32_t delta,
                                   wasm_rt_externref_t init);
  /* Exception handling, for modules wasm2c converted with exceptions enabled. */
  uint32_t (*register_tag)(uint32_t size);
  void (*load_exception)(uint32_t tag, uint32_t size, const void* values);
  void (*throw_exception)(void); /* does not return */
  WASM_RT_UNWIND_TARGET* (*get_unwind_target)(void);
  void (*set_unwind_target)(WASM_RT_UNWIND_TARGET* target);
  uint32_t (*exception_tag)(void);
  uint32_t (*exception_size)(void);
  void* (*exception)(void);
} ofw_runtime_v1;

/* An active data segment taken out of the module: `size` bytes at `bytes`, for linear memory
 * at `guest_offset`. */
typedef struct ofw_data_segment_v1 {
  uint32_t guest_offset;
  uint32_t size;
  const uint8_t* bytes;
} ofw_data_segment_v1;

/* What a compiled module provides. */
typedef struct ofw_module_v1 {
  uint32_t abi_version;
  const char* sha256; /* of the original module file, 64 hex digits */
  uint32_t instance_size;
  uint32_t instance_align;
  void (*init_module)(void); /* once, before the first instantiation */
  /* Fills a zeroed instance: globals, memory (through allocate_memory), tables. Imports are
   * called with `host_context` as their first argument. */
  void (*instantiate)(void* instance, void* host_context);
  void (*free_instance)(void* instance);
  wasm_rt_memory_t* (*memory)(void* instance);
  void (*start)(void* instance); /* the _start export */
  uint32_t data_segment_count;
  const ofw_data_segment_v1* data_segments;
} ofw_module_v1;

#define OFW_WASM_ENTRY_POINT "ofw_wasm_module_v1"
typedef const ofw_module_v1* (*ofw_wasm_entry_v1)(const ofw_runtime_v1* runtime);

/* The modules linked into an executable by `of-watchdog wasm-compile --bundle`: each module's
 * entry point (renamed, as there may be several) with the sha256 it was built from. The
 * watchdog refers to the table weakly, so a program without a bundle links as before. */
typedef struct ofw_bundled_module_v1 {
  const char* sha256;
  ofw_wasm_entry_v1 entry;
} ofw_bundled_module_v1;

typedef struct ofw_bundle_v1 {
  uint32_t abi_version;
  uint32_t count;
  const ofw_bundled_module_v1* modules;
} ofw_bundle_v1;

#define OFW_WASM_BUNDLE_SYMBOL ofw_wasm_bundle_v1

#ifdef __cplusplus
}
#endif

#endif /* OFW_WASM_MODULE_ABI_H */
