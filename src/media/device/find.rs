//! Finding the system's devices.

use super::*;

// ---------------------------------------------------------------------------
// Finding devices.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dir {
    Input,
    Output,
}

impl Dir {
    pub(super) fn noun(self) -> &'static str {
        match self {
            Dir::Input => "microphone",
            Dir::Output => "speaker",
        }
    }
}

/// The platform's audio host, without cpal's panic when none works.
pub(super) fn system_host() -> Result<cpal::Host, String> {
    let mut last = None;
    for id in cpal::available_hosts() {
        match cpal::host_from_id(id) {
            Ok(host) => return Ok(host),
            Err(e) => last = Some(format!("{}: {e}", id.name())),
        }
    }
    Err(format!(
        "no sound system ({})",
        last.unwrap_or_else(|| "no audio host on this platform".to_owned())
    ))
}

pub(super) fn default_config(
    device: &cpal::Device,
    dir: Dir,
) -> Result<cpal::SupportedStreamConfig, cpal::Error> {
    match dir {
        Dir::Input => device.default_input_config(),
        Dir::Output => device.default_output_config(),
    }
}

/// A usable device and how it is shown.
pub(super) struct Found {
    pub(super) info: DeviceInfo,
    /// The device's description, before disambiguation.
    pub(super) description: String,
    /// The backend's device id (e.g. ALSA `hw:CARD=PCH,DEV=0`), if any.
    pub(super) id: Option<String>,
    pub(super) device: cpal::Device,
}

/// ALSA's `null` PCM accepts any stream without a sound card: not a device
/// anyone means to talk through.
pub(super) fn is_pseudo(id: Option<&str>) -> bool {
    id == Some("null")
}

/// The usable devices of one direction, with unique names.
pub(super) fn enumerate(host: &cpal::Host, dir: Dir) -> Vec<Found> {
    let devices: Result<Vec<cpal::Device>, cpal::Error> = match dir {
        Dir::Input => host.input_devices().map(Iterator::collect),
        Dir::Output => host.output_devices().map(Iterator::collect),
    };
    let devices = devices.unwrap_or_else(|e| {
        tracing::debug!("listing {}s: {e}", dir.noun());
        Vec::new()
    });
    let default = match dir {
        Dir::Input => host.default_input_device(),
        Dir::Output => host.default_output_device(),
    };
    let default_id = default.and_then(|d| d.id().ok());
    let mut found: Vec<Found> = devices
        .into_iter()
        .filter_map(|device| {
            let device_id = device.id().ok();
            let id = device_id.as_ref().map(|i| i.id().to_owned());
            if is_pseudo(id.as_deref()) || default_config(&device, dir).is_err() {
                return None;
            }
            let description = device
                .description()
                .map(|d| d.name().trim().to_owned())
                .ok()
                .filter(|name| !name.is_empty())
                .or_else(|| id.clone())
                .unwrap_or_else(|| format!("unnamed {}", dir.noun()));
            let is_default = device_id.is_some() && device_id == default_id;
            Some(Found {
                info: DeviceInfo {
                    name: description.clone(),
                    is_default,
                },
                description,
                id,
                device,
            })
        })
        .collect();
    // Several ALSA PCMs share a description (hw:, plughw:, front:, ...):
    // tell them apart by id.
    for i in 0..found.len() {
        let shared = found
            .iter()
            .filter(|f| f.description == found[i].description)
            .count()
            > 1;
        if shared {
            if let Some(id) = &found[i].id {
                found[i].info.name = format!("{} [{id}]", found[i].description);
            }
        }
    }
    for i in 0..found.len() {
        let mut n = 1;
        while found[..i].iter().any(|f| f.info.name == found[i].info.name) {
            n += 1;
            found[i].info.name = format!("{} #{n}", found[i].description);
        }
    }
    found
}

/// The device chosen for one direction, with its configuration.
pub(super) struct Picked {
    pub(super) name: String,
    pub(super) device: cpal::Device,
    pub(super) config: cpal::SupportedStreamConfig,
}

pub(super) fn pick(host: &cpal::Host, dir: Dir, wanted: Option<&str>) -> Result<Picked, String> {
    let backend = host.id().name();
    let noun = dir.noun();
    let Some(wanted) = wanted else {
        let device = match dir {
            Dir::Input => host.default_input_device(),
            Dir::Output => host.default_output_device(),
        }
        .ok_or_else(|| format!("no {noun} ({backend} has no default {noun})"))?;
        let config = default_config(&device, dir).map_err(|e| match e.kind() {
            cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::HostUnavailable => {
                format!("no sound card ({backend}: {e})")
            }
            _ => format!("default {noun} unusable ({backend}: {e})"),
        })?;
        let name = device
            .description()
            .map(|d| d.name().to_owned())
            .unwrap_or_else(|_| format!("default {noun}"));
        return Ok(Picked {
            name,
            device,
            config,
        });
    };
    let mut found = enumerate(host, dir);
    let position = found
        .iter()
        .position(|f| f.info.name == wanted)
        .or_else(|| found.iter().position(|f| f.id.as_deref() == Some(wanted)))
        .or_else(|| found.iter().position(|f| f.description == wanted));
    let Some(position) = position else {
        let available = if found.is_empty() {
            "none".to_owned()
        } else {
            found
                .iter()
                .map(|f| format!("\"{}\"", f.info.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "{noun} \"{wanted}\" not found ({backend} {noun}s: {available})"
        ));
    };
    let chosen = found.swap_remove(position);
    let config = default_config(&chosen.device, dir)
        .map_err(|e| format!("{noun} \"{wanted}\" unusable ({backend}: {e})"))?;
    Ok(Picked {
        name: chosen.info.name,
        device: chosen.device,
        config,
    })
}
