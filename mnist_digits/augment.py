"""Augmentation of whole batches: one random affine warp per image, in a single grid_sample."""
import math

import torch
import torch.nn.functional as F


def random_affine(x: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Rotate up to 10 deg, scale 0.9-1.1, shear up to 0.15 and shift up to 2.5 px, per image."""
    n = len(x)

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator, device=x.device) * 2 - 1) * limit * strength

    angle, scale, shear = uniform(math.radians(10)), 1 + uniform(0.1), uniform(0.15)
    shift = uniform(2.5 / 14).unsqueeze(1), uniform(2.5 / 14).unsqueeze(1)  # grid units: 14 px = 1
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear * cos], 1),
                         torch.stack([sin, cos + shear * sin], 1)], 1)
    theta = torch.cat([theta, torch.cat(shift, 1).unsqueeze(2)], 2)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    background = x.amin()  # the normalised value of a black pixel
    out = F.grid_sample(x - background, grid, align_corners=False, padding_mode="zeros")
    return out + background
