/* accel: the C API of ipfs-accelerate.
 *
 * Load a Hugging Face model folder, an HF id from the local cache or a GGUF file on a device;
 * tokenize, embed, run a forward pass on your own tensors, generate text with streaming and
 * cancellation; verify a fixture; read the hardware report and the device ranking.
 *
 * Versioning: ACCEL_API_VERSION changes when a function or struct changes incompatibly;
 * accel_api_version() says which version the loaded library implements. Option structs begin
 * with `struct_size`: set it with the matching accel_*_init() so that a newer library can tell
 * what an older program filled in.
 *
 * Errors: every function that can fail returns an accel_status. ACCEL_OK is 0; any other value
 * means the call did nothing that needs undoing, and accel_last_error() gives a one-line
 * message. No C++ exception crosses this API, and no input (null or freed handles excepted,
 * see below) makes it abort.
 *
 * Ownership: objects the library creates (accel_model, accel_tensors, strings, id arrays) are
 * owned by the caller and released with the matching accel_*_free(); passing NULL to a free
 * function does nothing. Pointers returned inside an accel_tensors stay valid until it is freed.
 * Input pointers are only read during the call.
 *
 * Handles: a NULL handle is an ACCEL_ERR_INVALID_ARGUMENT. A freed handle is detected (the
 * library keeps a registry of live models and answers ACCEL_ERR_INVALID_ARGUMENT) as long as the
 * address has not been handed out again by a later accel_model_load.
 *
 * Threads: calls on different models may run concurrently. Calls on one model are serialized by
 * the library (a second thread waits). accel_model_cancel() may be called from any thread at any
 * time and makes the model's running generation stop at its next token. accel_last_error() is
 * per thread.
 */
#ifndef ACCEL_ACCEL_H_
#define ACCEL_ACCEL_H_

#include <stddef.h>
#include <stdint.h>

#if defined(ACCEL_BUILDING_LIBRARY)
#define ACCEL_API __attribute__((visibility("default")))
#else
#define ACCEL_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define ACCEL_API_VERSION 1

typedef enum accel_status {
  ACCEL_OK = 0,
  ACCEL_ERR_INVALID_ARGUMENT = 1, /* a null or freed handle, a bad option, a wrong shape */
  ACCEL_ERR_NOT_FOUND = 2,        /* a path or HF id that does not exist */
  ACCEL_ERR_UNSUPPORTED = 3,      /* a model type, dtype, device or operation accel does not run */
  ACCEL_ERR_CORRUPT = 4,          /* a file that is not what it claims to be */
  ACCEL_ERR_OUT_OF_MEMORY = 5,
  ACCEL_ERR_CANCELLED = 6,
  ACCEL_ERR_INTERNAL = 7,
  ACCEL_ERR_CHECK_FAILED = 8, /* accel_verify: the outputs differ from the reference */
  ACCEL_ERR_IO = 9            /* the operating system refused a read or write */
} accel_status;

typedef enum accel_dtype {
  ACCEL_DTYPE_F32 = 0,
  ACCEL_DTYPE_I64 = 1,
  ACCEL_DTYPE_I32 = 2,
  ACCEL_DTYPE_F16 = 3,
  ACCEL_DTYPE_BF16 = 4
} accel_dtype;

/* The API version this library implements (compare with ACCEL_API_VERSION). */
ACCEL_API int accel_api_version(void);
/* "0.1.0 (commit)"; static storage. */
ACCEL_API const char* accel_version(void);
/* The message of the last failed call on this thread; "" if none. Valid until the next call. */
ACCEL_API const char* accel_last_error(void);
/* A short name for a status, e.g. "ACCEL_ERR_NOT_FOUND"; static storage. */
ACCEL_API const char* accel_status_name(accel_status status);

/* Strings and id arrays the library returns. */
ACCEL_API void accel_string_free(char* s);
ACCEL_API void accel_ids_free(int64_t* ids);

/* ---- models ----------------------------------------------------------------------------- */

typedef struct accel_model accel_model;

typedef struct accel_load_options {
  size_t struct_size;
  const char* device; /* "cpu" (default), "cuda", "cuda:1", "vulkan", "emulated", "auto" */
  int compute_bf16;   /* nonzero: linear layers in bf16 arithmetic (faster, not bit-exact) */
  const char* memory_limit; /* budget the model must fit before loading, e.g. "8G"; NULL: the
                               ACCEL_MEMORY_LIMIT variable, else 90% of available memory */
} accel_load_options;

ACCEL_API void accel_load_options_init(accel_load_options* options);

/* `path`: a model folder (config.json + safetensors), an HF id in the local cache, or a .gguf
 * file. `options` may be NULL (defaults). On success *model is a new handle. */
ACCEL_API accel_status accel_model_load(const char* path, const accel_load_options* options, accel_model** model);
ACCEL_API void accel_model_free(accel_model* model);

/* JSON: {"model_type", "architecture", "device", "generates", "has_tokenizer",
 * "context_length", "vocab_size", "hidden_size", "inputs": [...]}. Free with accel_string_free. */
ACCEL_API accel_status accel_model_info(accel_model* model, char** json);

/* ---- text ------------------------------------------------------------------------------- */

/* UTF-8 text -> token ids (the model's tokenizer; `add_special`: BOS/CLS/SEP as the model
 * adds them). Invalid UTF-8 is ACCEL_ERR_INVALID_ARGUMENT. Free *ids with accel_ids_free. */
ACCEL_API accel_status accel_tokenize(accel_model* model, const char* text, int add_special, int64_t** ids,
                                      size_t* count);
/* Token ids -> UTF-8 text. Free *text with accel_string_free. */
ACCEL_API accel_status accel_detokenize(accel_model* model, const int64_t* ids, size_t count, int skip_special,
                                        char** text);

/* ---- tensors ---------------------------------------------------------------------------- */

/* A named, dense, row-major tensor in host memory. */
typedef struct accel_tensor_view {
  const char* name;
  accel_dtype dtype;
  int32_t rank;
  const int64_t* shape; /* rank entries */
  const void* data;
} accel_tensor_view;

/* A list of named tensors that the library owns; free with accel_tensors_free. */
typedef struct accel_tensors accel_tensors;

ACCEL_API size_t accel_tensors_count(const accel_tensors* tensors);
/* The i-th tensor (in name order); its pointers live as long as `tensors`. */
ACCEL_API accel_status accel_tensors_get(const accel_tensors* tensors, size_t index, accel_tensor_view* view);
/* The tensor called `name`, or ACCEL_ERR_NOT_FOUND. */
ACCEL_API accel_status accel_tensors_find(const accel_tensors* tensors, const char* name, accel_tensor_view* view);
ACCEL_API void accel_tensors_free(accel_tensors* tensors);

/* One forward pass on the caller's inputs, named as HF names them (input_ids, attention_mask,
 * pixel_values, input_features, ...). Outputs are named as HF names them (last_hidden_state,
 * logits, ...). A missing input, a wrong dtype or a wrong shape is ACCEL_ERR_INVALID_ARGUMENT. */
ACCEL_API accel_status accel_model_run(accel_model* model, const accel_tensor_view* inputs, size_t count,
                                       accel_tensors** outputs);

/* Sentence embeddings of `count` UTF-8 texts with an encoder model (pooling as the model folder
 * says, mean by default; `normalize`: unit length). One output, "embeddings" [count, hidden]. */
ACCEL_API accel_status accel_embed(accel_model* model, const char* const* texts, size_t count, int normalize,
                                   accel_tensors** embeddings);

/* ---- generation ------------------------------------------------------------------------- */

typedef struct accel_generate_options {
  size_t struct_size;
  int64_t max_new_tokens; /* default 128 */
  float temperature;      /* 0 = greedy (default) */
  float top_p;            /* 1 = off (default) */
  int32_t top_k;          /* 0 = off (default) */
  float repetition_penalty; /* 1 = off (default) */
  uint64_t seed;          /* sampling seed (default 0) */
  int chat;               /* nonzero: the prompt is one user message, rendered with the chat template */
  const char* const* stop; /* stop strings (NULL or `stop_count` entries) */
  size_t stop_count;
} accel_generate_options;

ACCEL_API void accel_generate_options_init(accel_generate_options* options);

/* Called for every generated token with the text that became showable with it (may be empty, not
 * NUL-terminated: use `length`). Return nonzero to go on, 0 to stop. */
typedef int (*accel_token_callback)(int64_t token, const char* text, size_t length, void* user_data);

/* Generates from a UTF-8 prompt (needs a decoder with a tokenizer). `callback` may be NULL.
 * On success *text (if not NULL) is the generated text (free with accel_string_free). Stopped by
 * accel_model_cancel: ACCEL_ERR_CANCELLED, with the text so far in *text. */
ACCEL_API accel_status accel_generate(accel_model* model, const char* prompt, const accel_generate_options* options,
                                      accel_token_callback callback, void* user_data, char** text);
/* The same from prompt token ids; *ids (if not NULL) are the new tokens (free with accel_ids_free). */
ACCEL_API accel_status accel_generate_ids(accel_model* model, const int64_t* prompt, size_t prompt_count,
                                          const accel_generate_options* options, accel_token_callback callback,
                                          void* user_data, int64_t** ids, size_t* count);
/* Asks the model's running generation (if any) to stop at its next token. Any thread. */
ACCEL_API accel_status accel_model_cancel(accel_model* model);

/* ---- verify, hardware, device selection ------------------------------------------------- */

/* Runs a fixture folder (config.json, model.safetensors, reference.json, reference.safetensors)
 * on `device` (NULL = "cpu") and compares with the reference. *report (if not NULL) is the JSON
 * report of `accel verify --json`. ACCEL_OK when every output matches, ACCEL_ERR_CHECK_FAILED
 * when one does not. */
ACCEL_API accel_status accel_verify(const char* fixture_dir, const char* device, char** report);

/* This machine's hardware as JSON (the report of `accel hw --json`). */
ACCEL_API accel_status accel_hardware_report(char** json);

/* Ranks this machine's devices and dtypes for a model (folder, config.json or HF id) at a
 * workload, as `accel select --json` does. *json: the ranking. */
ACCEL_API accel_status accel_select_device(const char* model_path, int64_t batch, int64_t seq, char** json);

#ifdef __cplusplus
}
#endif

#endif /* ACCEL_ACCEL_H_ */
