//! The few pocketsphinx (5prealpha) and sphinxbase functions ccdesk calls,
//! looked up at run time.
//!
//! The signatures are those of Debian 12's `libpocketsphinx-dev` and
//! `libsphinxbase-dev` headers (`pocketsphinx/pocketsphinx.h`,
//! `sphinxbase/cmd_ln.h`, `sphinxbase/err.h`). The `pocketsphinx` crates on
//! crates.io declare an older API with different argument counts, hence
//! this module.
//!
//! The libraries are opened with `dlopen` (the `libloading` crate) so that
//! ccdesk neither links against them nor needs them to start.

use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr::NonNull;
use std::sync::Arc;

use libloading::Library;

use super::SpeechError;

/// `cmd_ln_t`: a parsed configuration (reference counted by sphinxbase).
#[repr(C)]
pub(super) struct CmdLn {
    _opaque: [u8; 0],
}

/// `ps_decoder_t`: one decoder.
#[repr(C)]
pub(super) struct PsDecoder {
    _opaque: [u8; 0],
}

/// `arg_t`: the table of a program's options (`ps_args()`).
#[repr(C)]
pub(super) struct ArgT {
    _opaque: [u8; 0],
}

/// The start of sphinxbase's `feat_t` (`sphinxbase/feat.h`), up to the
/// cepstral mean normaliser. Read only to reset that normaliser when a
/// decoder moves to a new leg ([`Decoder::reset_stream`]); the offsets
/// (`cepsize` at 16, `cmn_struct` at 88 on x86-64) were checked against
/// Debian 12's header with `offsetof`, and a decoder whose values do not
/// look right is simply not reused.
#[repr(C)]
struct FeatHead {
    refcount: c_int,
    name: *mut c_char,
    cepsize: i32,
    n_stream: i32,
    stream_len: *mut u32,
    window_size: i32,
    n_sv: i32,
    sv_len: *mut u32,
    subvecs: *mut *mut i32,
    sv_buf: *mut f32,
    sv_dim: i32,
    cmn: c_int,
    varnorm: i32,
    agc: c_int,
    compute_feat: *mut c_void,
    cmn_struct: *mut CmnT,
}

/// sphinxbase's `cmn_t` (`sphinxbase/cmn.h`; `mfcc_t` is `float` in
/// Debian's build, which is not `FIXED_POINT`).
#[repr(C)]
pub(super) struct CmnT {
    cmn_mean: *mut f32,
    cmn_var: *mut f32,
    sum: *mut f32,
    nframe: i32,
    veclen: i32,
}

/// The shared objects Debian 12 ships (packages `libsphinxbase3`,
/// `libpocketsphinx3`), then the development symlinks as a fallback.
const SPHINXBASE: &[&str] = &["libsphinxbase.so.3", "libsphinxbase.so"];
const POCKETSPHINX: &[&str] = &["libpocketsphinx.so.3", "libpocketsphinx.so"];

type CmdLnParseR =
    unsafe extern "C" fn(*mut CmdLn, *const ArgT, i32, *mut *mut c_char, i32) -> *mut CmdLn;
type CmdLnFreeR = unsafe extern "C" fn(*mut CmdLn) -> c_int;
type ErrSetLogfp = unsafe extern "C" fn(*mut c_void);
type PsArgs = unsafe extern "C" fn() -> *const ArgT;
type PsInit = unsafe extern "C" fn(*mut CmdLn) -> *mut PsDecoder;
type PsFree = unsafe extern "C" fn(*mut PsDecoder) -> c_int;
type PsStartUtt = unsafe extern "C" fn(*mut PsDecoder) -> c_int;
type PsProcessRaw = unsafe extern "C" fn(*mut PsDecoder, *const i16, usize, c_int, c_int) -> c_int;
type PsEndUtt = unsafe extern "C" fn(*mut PsDecoder) -> c_int;
type PsGetHyp = unsafe extern "C" fn(*mut PsDecoder, *mut i32) -> *const c_char;
type PsStartStream = unsafe extern "C" fn(*mut PsDecoder) -> c_int;
type PsGetFeat = unsafe extern "C" fn(*mut PsDecoder) -> *mut c_void;
type CmnLiveGet = unsafe extern "C" fn(*mut CmnT, *mut f32);
type CmnLiveSet = unsafe extern "C" fn(*mut CmnT, *const f32);

/// The opened libraries and the functions taken from them. The function
/// pointers stay valid as long as this value lives: every [`Decoder`]
/// holds an `Arc` of it.
pub(super) struct Api {
    cmd_ln_parse_r: CmdLnParseR,
    cmd_ln_free_r: CmdLnFreeR,
    ps_args: PsArgs,
    ps_init: PsInit,
    ps_free: PsFree,
    ps_start_utt: PsStartUtt,
    ps_process_raw: PsProcessRaw,
    ps_end_utt: PsEndUtt,
    ps_get_hyp: PsGetHyp,
    ps_start_stream: PsStartStream,
    ps_get_feat: PsGetFeat,
    cmn_live_get: CmnLiveGet,
    cmn_live_set: CmnLiveSet,
    // Dropped last (fields drop in order): the pointers above point into them.
    _pocketsphinx: Library,
    _sphinxbase: Library,
}

/// Opens the first of `names` that loads, or says which were tried.
fn open(names: &[&str], package: &str) -> Result<Library, SpeechError> {
    // The first name's error says most (the others are fallbacks).
    let mut first = None;
    for name in names {
        // SAFETY: these libraries' initialisers only set up their own
        // state; nothing else runs on load.
        match unsafe { Library::new(name) } {
            Ok(lib) => return Ok(lib),
            Err(e) => {
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
    Err(SpeechError::Unavailable(format!(
        "{} not found (install the Debian package {package}): {}",
        names.first().copied().unwrap_or("library"),
        first.unwrap_or_default(),
    )))
}

/// Copies a function pointer out of `lib`.
///
/// # Safety
/// `T` must be the function's real type.
unsafe fn sym<T: Copy>(lib: &Library, name: &str) -> Result<T, SpeechError> {
    let mut cname = name.as_bytes().to_vec();
    cname.push(0);
    // SAFETY: the caller vouches for `T`.
    match unsafe { lib.get::<T>(&cname) } {
        Ok(s) => Ok(*s),
        Err(e) => Err(SpeechError::Unavailable(format!(
            "{name} missing from the pocketsphinx libraries (5prealpha API expected): {e}"
        ))),
    }
}

impl Api {
    /// Opens sphinxbase and pocketsphinx and turns their logging off.
    ///
    /// The logging switch (`err_set_logfp(NULL)`) is process-wide: nothing
    /// of sphinxbase's reaches stderr afterwards, which would otherwise
    /// draw over a terminal UI and fill a server's log with model details.
    pub(super) fn load() -> Result<Arc<Api>, SpeechError> {
        let sphinxbase = open(SPHINXBASE, "libsphinxbase3")?;
        let pocketsphinx = open(POCKETSPHINX, "libpocketsphinx3")?;
        // SAFETY: each type below is the C declaration in the Debian 12
        // headers (see the module's documentation).
        unsafe {
            let err_set_logfp: ErrSetLogfp = sym(&sphinxbase, "err_set_logfp")?;
            err_set_logfp(std::ptr::null_mut());
            Ok(Arc::new(Api {
                cmd_ln_parse_r: sym(&sphinxbase, "cmd_ln_parse_r")?,
                cmd_ln_free_r: sym(&sphinxbase, "cmd_ln_free_r")?,
                ps_args: sym(&pocketsphinx, "ps_args")?,
                ps_init: sym(&pocketsphinx, "ps_init")?,
                ps_free: sym(&pocketsphinx, "ps_free")?,
                ps_start_utt: sym(&pocketsphinx, "ps_start_utt")?,
                ps_process_raw: sym(&pocketsphinx, "ps_process_raw")?,
                ps_end_utt: sym(&pocketsphinx, "ps_end_utt")?,
                ps_get_hyp: sym(&pocketsphinx, "ps_get_hyp")?,
                ps_start_stream: sym(&pocketsphinx, "ps_start_stream")?,
                ps_get_feat: sym(&pocketsphinx, "ps_get_feat")?,
                cmn_live_get: sym(&sphinxbase, "cmn_live_get")?,
                cmn_live_set: sym(&sphinxbase, "cmn_live_set")?,
                _pocketsphinx: pocketsphinx,
                _sphinxbase: sphinxbase,
            }))
        }
    }
}

/// One pocketsphinx decoder and the configuration it was made from.
///
/// Owns the decoder; frees it on drop. Used by one thread at a time
/// (`Send`, not `Sync`): pocketsphinx decoders have no thread affinity but
/// are not safe to share.
pub(super) struct Decoder {
    api: Arc<Api>,
    ps: NonNull<PsDecoder>,
    /// The cepstral mean normaliser and its state when the decoder was
    /// new, to start each leg from; `None` when it could not be found.
    cmn: Option<(NonNull<CmnT>, Vec<f32>)>,
    /// The option strings. sphinxbase keeps pointers to the option names
    /// (its hash table's keys) rather than copies, so they must outlive
    /// the configuration, which the decoder holds until `ps_free`.
    _argv: Vec<CString>,
}

// SAFETY: a decoder is plain heap state of the C library, not tied to the
// thread that made it; `&mut self` on every call keeps it to one thread at
// a time.
unsafe impl Send for Decoder {}

impl Decoder {
    /// Parses `args` (option, value, option, value…) and makes a decoder.
    pub(super) fn new(api: &Arc<Api>, args: &[(String, String)]) -> Result<Decoder, SpeechError> {
        let mut argv = Vec::with_capacity(1 + args.len() * 2);
        // argv[0], the program's name, is skipped by the parser.
        argv.push(CString::from(c"ccdesk"));
        for (k, v) in args {
            for s in [k, v] {
                let c = CString::new(s.as_bytes()).map_err(|_| {
                    SpeechError::Recognition(format!("option {k} {v:?} contains a NUL byte"))
                })?;
                argv.push(c);
            }
        }
        let mut ptrs: Vec<*mut c_char> = argv.iter().map(|c| c.as_ptr().cast_mut()).collect();
        let argc = i32::try_from(ptrs.len())
            .map_err(|_| SpeechError::Recognition("too many options".into()))?;
        // SAFETY: `ptrs` holds `argc` valid C strings that outlive the
        // configuration (kept in `_argv`); the parser only reads them.
        let config = unsafe {
            (api.cmd_ln_parse_r)(
                std::ptr::null_mut(),
                (api.ps_args)(),
                argc,
                ptrs.as_mut_ptr(),
                1,
            )
        };
        let Some(config) = NonNull::new(config) else {
            let names: Vec<&str> = args.iter().map(|(k, _)| k.as_str()).collect();
            return Err(SpeechError::Recognition(format!(
                "pocketsphinx rejected the options {}",
                names.join(" ")
            )));
        };
        // SAFETY: `config` is a live configuration; `ps_init` takes its own
        // reference, so ours is released whatever the outcome.
        let ps = unsafe {
            let ps = (api.ps_init)(config.as_ptr());
            (api.cmd_ln_free_r)(config.as_ptr());
            ps
        };
        let Some(ps) = NonNull::new(ps) else {
            return Err(SpeechError::Recognition(
                "pocketsphinx could not load the model (ps_init failed)".into(),
            ));
        };
        // SAFETY: `ps` is a live decoder.
        let cmn = unsafe { find_cmn(api, ps) };
        Ok(Decoder {
            api: Arc::clone(api),
            ps,
            cmn,
            _argv: argv,
        })
    }

    /// Whether [`Decoder::reset_stream`] can bring it back to as new.
    pub(super) fn resettable(&self) -> bool {
        self.cmn.is_some()
    }

    /// Readies the decoder for a new leg: a new stream (noise statistics
    /// reset) and the cepstral mean back to the model's initial one.
    /// pocketsphinx adapts that mean across utterances, which helps within
    /// a leg (one speaker, one line) but would start the next leg from the
    /// last caller's line. Returns false when it cannot be reset.
    pub(super) fn reset_stream(&mut self) -> bool {
        let Some((cmn, init)) = &self.cmn else {
            return false;
        };
        // SAFETY: `ps` is live and not in an utterance (the caller ended
        // it); `cmn` belongs to it and `init` has its `veclen` values.
        unsafe {
            if (self.api.ps_start_stream)(self.ps.as_ptr()) < 0 {
                return false;
            }
            (self.api.cmn_live_set)(cmn.as_ptr(), init.as_ptr());
        }
        true
    }

    /// The cepstral mean now (what the decoder has learnt of the line).
    pub(super) fn current_cmn(&self) -> Option<Vec<f32>> {
        let (cmn, init) = self.cmn.as_ref()?;
        let mut now = vec![0f32; init.len()];
        // SAFETY: `cmn` belongs to the live decoder and has `veclen`
        // (= `init.len()`) values.
        unsafe { (self.api.cmn_live_get)(cmn.as_ptr(), now.as_mut_ptr()) };
        now.iter().all(|x| x.is_finite()).then_some(now)
    }

    /// Sets the cepstral mean (one learnt on another decoder of the same
    /// model); ignored unless it has the right length and finite values.
    pub(super) fn set_cmn(&mut self, mean: &[f32]) {
        let Some((cmn, init)) = &self.cmn else {
            return;
        };
        if mean.len() != init.len() || !mean.iter().all(|x| x.is_finite()) {
            return;
        }
        // SAFETY: as in `current_cmn`; `mean` has `veclen` values.
        unsafe { (self.api.cmn_live_set)(cmn.as_ptr(), mean.as_ptr()) };
    }

    /// Starts an utterance.
    pub(super) fn start_utt(&mut self) -> Result<(), SpeechError> {
        // SAFETY: `ps` is live and used by this thread only.
        match unsafe { (self.api.ps_start_utt)(self.ps.as_ptr()) } {
            r if r < 0 => Err(SpeechError::Recognition("ps_start_utt failed".into())),
            _ => Ok(()),
        }
    }

    /// Decodes samples (16 kHz mono) in the current utterance.
    pub(super) fn process_raw(&mut self, pcm: &[i16]) -> Result<(), SpeechError> {
        if pcm.is_empty() {
            return Ok(());
        }
        // SAFETY: `pcm` is valid for `pcm.len()` samples during the call;
        // pocketsphinx copies what it keeps.
        match unsafe { (self.api.ps_process_raw)(self.ps.as_ptr(), pcm.as_ptr(), pcm.len(), 0, 0) }
        {
            r if r < 0 => Err(SpeechError::Recognition("ps_process_raw failed".into())),
            _ => Ok(()),
        }
    }

    /// Ends the utterance (runs the final passes).
    pub(super) fn end_utt(&mut self) -> Result<(), SpeechError> {
        // SAFETY: `ps` is live and used by this thread only.
        match unsafe { (self.api.ps_end_utt)(self.ps.as_ptr()) } {
            r if r < 0 => Err(SpeechError::Recognition("ps_end_utt failed".into())),
            _ => Ok(()),
        }
    }

    /// The best hypothesis so far (partial during an utterance, final after
    /// it), or `None` when there is none yet.
    pub(super) fn hyp(&mut self) -> Option<String> {
        // SAFETY: `ps` is live; the returned string belongs to the decoder
        // and stays valid until its next call, so it is copied at once.
        unsafe {
            let p = (self.api.ps_get_hyp)(self.ps.as_ptr(), std::ptr::null_mut());
            if p.is_null() {
                None
            } else {
                Some(std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
            }
        }
    }
}

/// The decoder's cepstral mean normaliser and its current (initial) mean,
/// if its layout looks as expected: a cepstrum of 1 to 64 coefficients and
/// a normaliser of the same length.
///
/// # Safety
/// `ps` must be a live decoder.
unsafe fn find_cmn(api: &Api, ps: NonNull<PsDecoder>) -> Option<(NonNull<CmnT>, Vec<f32>)> {
    // SAFETY: `ps_get_feat` returns the decoder's own feature computer (or
    // NULL); its head is laid out as `FeatHead` (checked above), and the
    // normaliser it points to as `CmnT`.
    unsafe {
        let feat = (api.ps_get_feat)(ps.as_ptr()).cast::<FeatHead>();
        let feat = feat.as_ref()?;
        let size = feat.cepsize;
        if !(1..=64).contains(&size) {
            return None;
        }
        let cmn = NonNull::new(feat.cmn_struct)?;
        let c = cmn.as_ref();
        if c.veclen != size || c.cmn_mean.is_null() {
            return None;
        }
        let mut init = vec![0f32; size as usize];
        (api.cmn_live_get)(cmn.as_ptr(), init.as_mut_ptr());
        init.iter().all(|x| x.is_finite()).then_some((cmn, init))
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: `ps` is live and freed once; it releases the
        // configuration, after which `_argv` may go.
        unsafe {
            (self.api.ps_free)(self.ps.as_ptr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_is_unavailable_and_named_with_its_package() {
        match open(
            &["libccdesk-none.so.9", "libccdesk-none.so"],
            "ccdesk-none9",
        ) {
            Err(SpeechError::Unavailable(m)) => {
                assert!(m.contains("libccdesk-none.so.9"), "{m}");
                assert!(m.contains("ccdesk-none9"), "{m}");
            }
            Err(e) => panic!("expected Unavailable, got {e:?}"),
            Ok(_) => panic!("opened a library that does not exist"),
        }
    }
}
