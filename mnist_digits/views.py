"""Fixed ways to redraw each digit before a network sees it (LeCun 1998's deskewing,
Ciresan 2012's width normalisation), so that ensemble members see different views of the
same image and, it was hoped, make different mistakes (README: the ensemble)."""
import torch
import torch.nn.functional as F
from torch import nn


def coords(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel centres in affine_grid's units (-1..1 across the image): columns u, rows v."""
    h, w = x.shape[-2:]
    v = (torch.arange(h, device=x.device, dtype=x.dtype) * 2 + 1) / h - 1
    u = (torch.arange(w, device=x.device, dtype=x.dtype) * 2 + 1) / w - 1
    return u.view(1, 1, 1, w), v.view(1, 1, h, 1)


def warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample x (N, 1, H, W) at theta (N, 2, 3), padding with x's black."""
    background = x.amin(dim=(1, 2, 3), keepdim=True)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x - background, grid, align_corners=False) + background


class View(nn.Module):
    """Redraws in float32 whatever the autocast; subclasses give each image's theta."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            x = x.float()
            ink = x - x.amin(dim=(1, 2, 3), keepdim=True)  # black is 0
            return warp(x, self.theta(ink))


class Deskew(View):
    """Shear each digit upright and move its centre of mass to the centre (LeCun 1998)."""

    def theta(self, ink: torch.Tensor) -> torch.Tensor:
        u, v = coords(ink)
        mass = ink.sum(dim=(1, 2, 3)).clamp_min(1e-6)
        mean_u, mean_v = (ink * u).sum(dim=(1, 2, 3)) / mass, (ink * v).sum(dim=(1, 2, 3)) / mass
        du, dv = u - mean_u.view(-1, 1, 1, 1), v - mean_v.view(-1, 1, 1, 1)
        var_v = (ink * dv * dv).sum(dim=(1, 2, 3)) / mass
        skew = (ink * du * dv).sum(dim=(1, 2, 3)) / mass / var_v.clamp_min(1e-6)
        one, zero = torch.ones_like(skew), torch.zeros_like(skew)
        return torch.stack([torch.stack([one, skew, mean_u], 1),
                            torch.stack([zero, one, mean_v], 1)], 1)


class WidthNorm(View):
    """Stretch or squeeze each digit's ink to `width` pixels across, centred (Ciresan 2012)."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.width = width

    def theta(self, ink: torch.Tensor) -> torch.Tensor:
        u, _ = coords(ink)
        columns = ink.amax(dim=(1, 2)) > 0.25 * ink.amax(dim=(1, 2, 3)).unsqueeze(1)  # (N, W)
        big = torch.full_like(ink[:, 0, 0], 2.0)
        left = torch.where(columns, u.view(1, -1), big).amin(1)
        right = torch.where(columns, u.view(1, -1), -big).amax(1)
        pixel = 2 / ink.shape[-1]
        scale = (right - left + pixel) / (self.width * pixel)  # input span per output span
        one, zero = torch.ones_like(scale), torch.zeros_like(scale)
        return torch.stack([torch.stack([scale, zero, (left + right) / 2], 1),
                            torch.stack([zero, one, zero], 1)], 1)
