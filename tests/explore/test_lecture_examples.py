"""The lecture's worked examples come out as the lecture prints them (its one slip noted)."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.explore import lecture_examples as lecture


def test_the_image_scores_are_w_x_plus_b():
    b = lecture.image_example("svm")
    # the notes' figure: -96.8 (cat), 437.9 (dog), 61.95 (ship) -- the ship without its bias -1.2
    np.testing.assert_allclose(b.scores, [-96.8, 437.9, 60.75], atol=1e-9)
    assert lecture.image_x().tolist() == [56, 231, 24, 2]
    assert b.predicted_class == 1  # the classifier takes the cat for a dog
    # SVM, delta 1: the dog and the ship each more than delta above the cat
    assert b.data_loss == pytest.approx((437.9 + 96.8 + 1) + (60.75 + 96.8 + 1))


def test_the_three_images_svm_losses_are_the_slides():
    example = lecture.svm_example(1.0)
    np.testing.assert_allclose(example.losses, [2.9, 0.0, 12.9], atol=1e-9)
    assert example.mean_loss == pytest.approx(15.8 / 3)
    # hinge terms by hand: the cat image, max(0, 5.1 - 3.2 + 1) and max(0, -1.7 - 3.2 + 1)
    np.testing.assert_allclose(example.breakdowns[0].hinge, [0.0, 2.9, 0.0], atol=1e-9)
    assert lecture.svm_example(0.0).losses[1] == 0.0
