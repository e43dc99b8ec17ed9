Feature: SPEC behaviours a QA suite found wrong
  "I am safe" goes to the contacts who received an alert in the last 30 minutes,
  counted from when the network delivered it; "position unknown" is written so,
  lower-case; the disconnect warning counts from the last exchange that got through,
  across app restarts; a flat cell browns the button out; battery warnings fire once
  per threshold crossed.

  Background:
    Given a button paired with a phone
    And the phone has 2 emergency contacts

  Scenario: "I am safe" counts the 30 minutes from when the alert was delivered
    Given the phone has no cellular network
    When the wearer presses the button
    And 40 minutes pass
    And the phone regains cellular network
    And 10 minutes pass
    And the wearer triple-presses the button
    Then within 15 s 2 contacts receive an SMS containing "I am safe"

  Scenario: Without any fix the SMS says "position unknown", in lower case
    Given the phone has no location fix
    When the wearer presses the button
    Then within 15 s 2 contacts receive an SMS containing "position unknown"

  Scenario: The disconnect warning counts from the last exchange that got through
    When the BLE link is lost for 120 s
    And 61 seconds pass
    Then the phone warns the wearer that the button is disconnected

  Scenario: An app restart during an outage does not restart the disconnect count
    When the BLE link is lost for 120 s
    And 30 seconds pass
    And the phone app restarts
    And 29 seconds pass
    Then the phone warns the wearer that the button is disconnected

  Scenario: A flat cell browns the button out: no alert, and the wearer is warned
    Given the button battery is at 0%
    When the wearer presses the button
    And 90 seconds pass
    Then no SMS is sent
    And the phone warns the wearer that the button is disconnected

  Scenario: A cell that runs flat away from the phone browns out instead of alerting
    Given the button battery is at 1%
    When Bluetooth is turned off on the phone
    And 10 days pass
    And the wearer presses the button
    And Bluetooth is turned on on the phone
    And 90 seconds pass
    Then no SMS is sent
    And the phone warns the wearer that the button is disconnected

  Scenario: A button connecting below both thresholds warns once
    Given the button battery is at 9%
    When 10 minutes pass
    Then the phone has warned the wearer 1 times that the button battery is low

  Scenario: Crossing 20 % and then 10 % warns once each
    Given the button battery is at 20.3%
    When 70 days pass
    Then the phone has warned the wearer 2 times that the button battery is low
