Feature: An attacker in Bluetooth range cannot delete, forge or silence an alert
  The wearer may be watched by the person she fears, who can come within Bluetooth range
  with a second central and without the key (SPEC §3 "Security"). Every attack of
  issue 13 is tried here as that person would; each must fail: the alert still arrives,
  nothing forged is acted on, and the button counts every write it refused
  (docs/threat-model.md names the scenario of each attack). What a listener learns is in
  privacy.feature.

  Background:
    Given a button paired with a phone
    And the phone has 2 emergency contacts

  Scenario: Acknowledging every queued event deletes nothing and the alert still arrives
    When an attacker connects to the button
    And the wearer presses the button
    And the attacker acknowledges every queued event
    And the attacker disconnects
    Then within 30 s every contact receives an SMS
    And exactly 2 SMS are sent
    And the button has rejected 128 commands

  Scenario: Setting the clock back does not date the next press in the past
    When an attacker connects to the button
    And the attacker sets the button's clock to 0
    And the wearer presses the button
    And the attacker disconnects
    Then within 30 s every contact receives an SMS
    And 0 contacts receive an SMS containing "sent late"
    And the button has rejected 1 commands

  Scenario: Setting the clock back does not make the phone drop the next fall
    When the trace "traces/fall_forward.jsonl" is replayed
    Then within 10 s a fall is reported to the phone
    When the wearer cancels on the phone
    And 10 minutes pass
    And an attacker connects to the button
    And the attacker sets the button's clock to 1767603600000
    And the trace "traces/fall_forward.jsonl" is replayed
    And the attacker disconnects
    And 60 seconds pass
    Then 2 contacts receive an SMS containing "Fall detected"
    And 0 contacts receive an SMS containing "sent late"
    And the button has rejected 1 commands

  Scenario: A clock value beyond any date is refused, not a crash
    When an attacker connects to the button
    And the attacker sets the button's clock to 18446744073709551615
    And the attacker sets the button's clock to 9223372036854775808
    And the attacker disconnects
    And the wearer presses the button
    Then within 30 s every contact receives an SMS
    And 0 contacts receive an SMS containing "sent late"
    And the button has rejected 2 commands

  Scenario Outline: A vibration the phone did not ask for plays nothing
    When an attacker connects to the button
    And the attacker makes the button vibrate the "<pattern>" pattern
    And the attacker disconnects
    And 30 seconds pass
    Then the button has vibrated 0 times
    And no alert is raised
    And the button has rejected 1 commands

    Examples:
      | pattern |
      | sent    |
      | failed  |

  Scenario: 8,000 vibrations do not drain the battery and the alert still arrives
    Given the button battery is at 30%
    When an attacker connects to the button
    And the attacker makes the button vibrate the "failed" pattern 8000 times
    And the attacker disconnects
    And the wearer presses the button
    Then within 30 s every contact receives an SMS
    And the button has rejected 8000 commands

  Scenario: Clicks through the test service do nothing on the default firmware
    When the wearer presses the button
    And the wearer holds the button for 3 s
    Then within 10 s every contact receives an SMS
    And the siren is on
    When an attacker connects to the button
    And the attacker clicks the button 3 times through the test service
    And the attacker disconnects
    And 60 seconds pass
    Then 0 contacts receive an SMS containing "I am safe"
    And the siren is on
    And an audio recording is in progress

  Scenario: Jamming for under a minute delays the alert but loses nothing
    When an attacker connects to the button
    And the wearer presses the button
    And 50 seconds pass
    And the attacker disconnects
    Then within 30 s every contact receives an SMS
    And exactly 2 SMS are sent
    And the button has rejected 0 commands

  Scenario: Jamming for longer than a minute warns the wearer
    When an attacker connects to the button
    And the wearer presses the button
    Then within 70 s the phone warns the wearer that the button is disconnected
    When the attacker disconnects
    Then within 30 s every contact receives an SMS
    And exactly 2 SMS are sent

  Scenario: What a listener hears of a pairing forges nothing
    When the button and the phone pair over the air while an attacker listens
    And the attacker forges a press with what it heard
    And 30 seconds pass
    Then no alert is raised
    And the phone has rejected 1 events

  Scenario: A forged press from the last frame on the air is refused
    When the wearer presses the button
    Then within 10 s every contact receives an SMS
    When the attacker forges a press with what it heard
    And 30 seconds pass
    Then exactly 2 SMS are sent
    And the phone has rejected 1 events

  Scenario: A 3-day-old captured press is refused after an app restart
    When the wearer presses the button
    Then within 10 s every contact receives an SMS
    When 3 days pass
    And the phone app restarts
    And an attacker replays the last alert event
    And 30 seconds pass
    Then exactly 2 SMS are sent
    And the phone has rejected 1 events

  Scenario: An attacker cannot bond with a factory-fresh button before the phone does
    When the button is reset to its factory state
    And an attacker connects to the button
    And the attacker tries to bond with the button
    And the attacker disconnects
    And the wearer pairs the button with the phone
    And the wearer presses the button
    Then within 30 s every contact receives an SMS
    And exactly 2 SMS are sent
    And the button has rejected 1 commands

  Scenario: An attacker cannot re-bond a bonded button without the wearer's action
    When an attacker connects to the button
    And the attacker tries to bond with the button
    And the attacker disconnects
    And the wearer presses the button
    Then within 30 s every contact receives an SMS
    And the button has rejected 1 commands
    When the wearer pairs the button with the phone
    And the wearer presses the button
    Then within 30 s exactly 4 SMS are sent

  Scenario: An impostor at the button's address cannot keep the phone quiet
    When the wearer presses the button
    Then within 10 s every contact receives an SMS
    When an impostor takes over the button's address
    Then within 150 s the phone warns the wearer that the button is disconnected
    And exactly 2 SMS are sent
    And no call is placed
    And the phone has not warned the wearer that the button battery is low
    When the attacker disconnects
    And the wearer presses the button
    Then within 30 s exactly 4 SMS are sent

  Scenario: A captured press is refused after the phone app is reinstalled
    When the wearer presses the button
    Then within 10 s every contact receives an SMS
    When 3 days pass
    And the phone app is reinstalled
    And an attacker replays the last alert event
    And 30 seconds pass
    Then exactly 2 SMS are sent
    And the phone has rejected 1 events

  Scenario: A captured press is refused after the phone app is restored from a backup
    When a backup of the phone app is taken
    And the wearer presses the button
    Then within 10 s every contact receives an SMS
    When 3 days pass
    And the phone app is restored from the backup
    And an attacker replays the last alert event
    And 30 seconds pass
    Then exactly 2 SMS are sent
    And the phone has rejected 1 events
